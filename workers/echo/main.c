/* bx-worker-echo: the no-op pool. Echoes the payload as {"data": {"id", "type": "echo",
 * "attributes": payload}} with 201 and records one echo_effects row per request, which
 * is how tests prove exactly-once effects. Test knobs in the payload: "sleep_ms" (0..10000)
 * sleeps before the commit, "fail": true fails with 422 (nothing written), "then": {...}
 * writes a follow-up echo job with that payload to the outbox. */
#include <time.h>

#include "bx_log.h"
#include "bx_wire.h"
#include "bx_worker.h"

#define S_SLEEP_MAX_MS 10000

static void s_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Reads "sleep_ms": 0 when absent, -1 when not an integer in range. */
static long s_sleep_of(json_t *payload)
{
    json_t *v = json_object_get(payload, "sleep_ms");
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > S_SLEEP_MAX_MS)
        return -1;
    return (long)json_integer_value(v);
}

static json_t *s_document(bx_worker_job_t *job, const char *follow_up)
{
    json_t *data = json_pack("{s:s, s:s, s:O}", "id", bx_worker_job_id(job), "type", "echo",
                             "attributes", bx_worker_job_payload(job));
    if (data && follow_up[0])
        json_object_set_new(data, "relationships",
                            json_pack("{s:{s:{s:s, s:s}}}", "follow_up", "data", "type", "request",
                                      "id", follow_up));
    return data ? json_pack("{s:o}", "data", data) : NULL;
}

static bx_err_t s_echo(bx_worker_job_t *job)
{
    json_t *payload = bx_worker_job_payload(job);
    json_t *then = json_object_get(payload, "then");
    char follow_up[37] = "";
    long sleep_ms = s_sleep_of(payload);
    if (json_is_true(json_object_get(payload, "fail")))
        return bx_worker_job_problem(job, BX_EUNPROCESSABLE, "echo was asked to fail");
    if (sleep_ms < 0)
        return bx_worker_job_problem(job, BX_EUNPROCESSABLE,
                                     "sleep_ms must be an integer from 0 to 10000");
    const char *params[] = {bx_worker_job_id(job)};
    bx_err_t rc = bx_pg_run(bx_worker_job_pg(job), "echo_effect_insert", 1, params);
    if (rc == BX_OK && json_is_object(then))
        rc = bx_worker_outbox_id(job, BX_SVC_ECHO, "echo.then", bx_worker_job_route_key(job),
                                 json_incref(then), follow_up);
    if (rc != BX_OK)
        return rc;
    if (sleep_ms > 0)
        s_sleep_ms(sleep_ms);
    json_t *doc = s_document(job, follow_up);
    if (!doc)
        return BX_ENOMEM;
    bx_worker_job_succeed(job, 201, doc);
    return BX_OK;
}

int main(void)
{
    bx_worker_opts_t opts = {.service = BX_SVC_ECHO, .handler = s_echo};
    return bx_worker_main("worker-echo", &opts);
}
