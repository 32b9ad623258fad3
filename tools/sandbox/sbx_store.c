/* sbx_store: what the sandbox received, per key, and the knobs tests set. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "sbx.h"

#define S_RECORDS_MAX 200000 /* records kept in all; older ones are dropped */

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *s_records; /* key -> array */
static json_t *s_knobs;   /* key -> {mode, times, delay_ms, status} */
static long s_seq;        /* last record number */

static void s_init(void)
{
    if (!s_records)
        s_records = json_object();
    if (!s_knobs)
        s_knobs = json_object();
}

void sbx_record(const char *key, json_t *record)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    pthread_mutex_lock(&s_lock);
    s_init();
    json_t *list = json_object_get(s_records, key);
    if (!list) {
        list = json_array();
        json_object_set_new(s_records, key, list);
    }
    if (json_array_size(list) >= S_RECORDS_MAX)
        json_array_remove(list, 0);
    json_object_set_new(record, "seq", json_integer(++s_seq));
    json_object_set_new(record, "received_ms",
                        json_integer((json_int_t)tv.tv_sec * 1000 + tv.tv_usec / 1000));
    json_array_append_new(list, record);
    pthread_mutex_unlock(&s_lock);
}

json_t *sbx_records(const char *key, long since)
{
    json_t *out = json_array();
    size_t i;
    json_t *r;
    pthread_mutex_lock(&s_lock);
    s_init();
    json_array_foreach(json_object_get(s_records, key), i, r)
    {
        if (json_integer_value(json_object_get(r, "seq")) > since)
            json_array_append_new(out, json_deep_copy(r));
    }
    pthread_mutex_unlock(&s_lock);
    return out;
}

void sbx_count(const char *key, const char *field, long *count, long *distinct)
{
    json_t *seen = json_object();
    size_t i;
    json_t *r;
    pthread_mutex_lock(&s_lock);
    s_init();
    json_t *list = json_object_get(s_records, key);
    *count = (long)json_array_size(list);
    json_array_foreach(list, i, r)
    {
        const char *v = field ? json_string_value(json_object_get(r, field)) : NULL;
        if (v)
            json_object_set_new(seen, v, json_true());
    }
    pthread_mutex_unlock(&s_lock);
    *distinct = (long)json_object_size(seen);
    json_decref(seen);
}

void sbx_clear(void)
{
    pthread_mutex_lock(&s_lock);
    json_decref(s_records);
    json_decref(s_knobs);
    s_records = s_knobs = NULL;
    pthread_mutex_unlock(&s_lock);
}

void sbx_knob_set(const char *key, const char *mode, int times, int delay_ms, int status)
{
    pthread_mutex_lock(&s_lock);
    s_init();
    if (!strcmp(mode, "ok"))
        json_object_del(s_knobs, key);
    else
        json_object_set_new(s_knobs, key,
                            json_pack("{s:s, s:i, s:i, s:i}", "mode", mode, "times", times,
                                      "delay_ms", delay_ms, "status", status));
    pthread_mutex_unlock(&s_lock);
}

/* Takes one use of the knob of key into mode/delay/status; 0 when there is none. */
static int s_take(const char *key, char mode[16], int *delay, int *status)
{
    int found = 0;
    pthread_mutex_lock(&s_lock);
    s_init();
    json_t *k = json_object_get(s_knobs, key);
    if (k) {
        found = 1;
        snprintf(mode, 16, "%s", json_string_value(json_object_get(k, "mode")));
        *delay = (int)json_integer_value(json_object_get(k, "delay_ms"));
        *status = (int)json_integer_value(json_object_get(k, "status"));
        json_int_t times = json_integer_value(json_object_get(k, "times"));
        if (times == 1)
            json_object_del(s_knobs, key);
        else if (times > 1)
            json_object_set_new(k, "times", json_integer(times - 1));
    }
    pthread_mutex_unlock(&s_lock);
    return found;
}

static void s_sleep(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

int sbx_knob_apply(const char *key, sbx_resp_t *resp)
{
    char mode[16];
    int delay = 0, status = 0;
    if (!s_take(key, mode, &delay, &status))
        return 0;
    if (!strcmp(mode, "slow")) {
        s_sleep(delay > 0 ? delay : 1000);
        return 0;
    }
    if (!strcmp(mode, "timeout")) {
        s_sleep(delay > 0 ? delay : 30000);
        sbx_json(resp, 504, json_pack("{s:s}", "error", "sandbox: told to time out"));
        return 1;
    }
    if (!strcmp(mode, "gone")) {
        sbx_json(resp, 410, json_pack("{s:s}", "error", "sandbox: gone"));
        return 1;
    }
    int code = status >= 100 && status < 600 ? status : 503; /* fail or status */
    sbx_json(resp, code, json_pack("{s:s, s:i}", "error", "sandbox: told to fail", "status", code));
    return 1;
}
