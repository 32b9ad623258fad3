/* it_ratelimit: the frontdoor's rate limiter (fd_ratelimit) against the real test Redis:
 * bursts up to the quota then 429 with Retry-After, refills at the GCRA rate, per-user and
 * per-IP isolation, the stricter auth class, the per-IP ceiling, exact RateLimit header
 * fields, atomicity under concurrent callers, keys free of credentials, and the local
 * fallback: Redis on a closed port still limits, logs once per outage, and hands back to
 * Redis when a real redis-server comes back. Includes fd_ratelimit.c for its statics. */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../frontdoor/fd_ratelimit.c"
#include "bx_harness.h"
#include "bx_suite.h"

#define S_CLOSED_PORT 25798 /* nothing listens here */
#define S_REVIVE_PORT 25797 /* a redis-server this suite starts and kills */

static bx_redis_t *s_redis;

static int s_redis_port(void)
{
    const char *p = getenv("BX_TEST_REDIS_PORT");
    return p && *p ? (int)strtol(p, NULL, 10) : 26379;
}

/* Fresh limits under a key prefix of this test alone. */
static void s_limits(long read, long write, long auth, long ip)
{
    fd_rl_config_t c = {.per_min = {read, write, auth, 0}, .ip_per_min = ip, .fallback_divisor = 1};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(c.prefix, sizeof c.prefix, "rlt:%d:%ld:", (int)getpid(), (long)ts.tv_nsec);
    ck_assert_int_eq(fd_ratelimit_init(&c), BX_OK);
}

static void s_setup(void)
{
    s_redis = bx_redis_new("127.0.0.1", s_redis_port(), 1000);
    ck_assert_ptr_nonnull(s_redis);
    redisReply *r = bx_redis_cmd(s_redis, "PING");
    ck_assert_msg(r != NULL, "the test Redis does not answer on %d", s_redis_port());
    freeReplyObject(r);
}

static void s_teardown(void)
{
    bx_redis_destroy(&s_redis);
}

static void s_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bx_err_t s_check(bx_redis_t *r, fd_rl_class_t cls, const char *uid, const char *ip,
                        fd_rl_result_t *out)
{
    return fd_ratelimit_check(r, cls, uid, ip, out);
}

START_TEST(burst_up_to_the_quota_then_refused_with_retry_after)
{
    fd_rl_result_t res;
    s_limits(5, 3, 2, 60);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(s_check(s_redis, FD_RL_READ, "u1", "10.0.0.1", &res), BX_OK);
        ck_assert_int_eq(res.local, 0);
        ck_assert_int_eq(res.allowed, 1);
        ck_assert_str_eq(res.policies[0].policy, "read");
        ck_assert_int_eq(res.policies[0].remaining, 4 - i);
        ck_assert_int_eq(res.retry_after_s, 0);
    }
    ck_assert_int_eq(s_check(s_redis, FD_RL_READ, "u1", "10.0.0.1", &res), BX_ERATELIMIT);
    ck_assert_int_eq(res.allowed, 0);
    ck_assert_int_eq(res.local, 0);
    ck_assert_str_eq(res.policy, "read");
    ck_assert_int_eq(res.limit, 5);
    ck_assert_int_eq(res.remaining, 0);
    /* One request every 12 s: the next one fits in at most 12 s. */
    ck_assert_int_ge(res.retry_after_s, 1);
    ck_assert_int_le(res.retry_after_s, 12);
    ck_assert_int_eq(res.reset_s, res.retry_after_s);
    /* The ceiling was consumed by the five allowed requests only. */
    ck_assert_str_eq(res.policies[1].policy, "ip");
    ck_assert_int_eq(res.policies[1].allowed, 1);
    ck_assert_int_eq(res.policies[1].remaining, 55);
}
END_TEST

START_TEST(refused_requests_consume_nothing)
{
    fd_rl_result_t res;
    s_limits(5, 3, 2, 6); /* one read per 12 s after the burst; ceiling 6 */
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(s_check(s_redis, FD_RL_READ, "u1", "10.0.0.2", &res), BX_OK);
    /* Had these 50 refusals counted, the wait would be 10 minutes. */
    for (int i = 0; i < 50; i++) {
        ck_assert_int_eq(s_check(s_redis, FD_RL_READ, "u1", "10.0.0.2", &res), BX_ERATELIMIT);
        ck_assert_int_le(res.retry_after_s, 12);
    }
    ck_assert_int_eq(res.policies[1].remaining, 1); /* nor did they touch the ceiling */
}
END_TEST

START_TEST(the_quota_refills_at_the_gcra_rate)
{
    fd_rl_result_t res;
    s_limits(600, 3, 2, 1000000); /* one read per 100 ms after the burst */
    double t0 = bx_metrics_now();
    int allowed = 0;
    while (s_check(s_redis, FD_RL_READ, "u1", "10.0.0.3", &res) == BX_OK)
        allowed++;
    double t1 = bx_metrics_now();
    ck_assert_int_ge(allowed, 600);
    ck_assert_int_le(allowed, 600 + (int)((t1 - t0) / 0.1) + 1);
    ck_assert_int_eq(res.retry_after_s, 1);
    s_sleep_ms(250);
    int later = 0;
    while (s_check(s_redis, FD_RL_READ, "u1", "10.0.0.3", &res) == BX_OK)
        later++;
    /* When refused, less than one T of quota was left; 250+ ms adds two or three more. */
    int most = (int)((bx_metrics_now() - t1) / 0.1) + 1;
    ck_assert_msg(later >= 2 && later <= most, "%d requests fitted, at most %d", later, most);
}
END_TEST

START_TEST(users_are_isolated_and_anonymous_callers_are_keyed_by_ip)
{
    fd_rl_result_t res;
    s_limits(3, 3, 2, 1000);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(s_check(s_redis, FD_RL_READ, "user-a", "10.0.1.1", &res), BX_OK);
    ck_assert_int_eq(s_check(s_redis, FD_RL_READ, "user-a", "10.0.1.1", &res), BX_ERATELIMIT);
    /* Per user: another address does not help user a, and does not hurt user b. */
    ck_assert_int_eq(s_check(s_redis, FD_RL_READ, "user-a", "10.0.1.2", &res), BX_ERATELIMIT);
    ck_assert_int_eq(s_check(s_redis, FD_RL_READ, "user-b", "10.0.1.1", &res), BX_OK);
    ck_assert_int_eq(res.policies[0].remaining, 2);
    /* Writes are a separate bucket. */
    ck_assert_int_eq(s_check(s_redis, FD_RL_WRITE, "user-a", "10.0.1.1", &res), BX_OK);
    /* Anonymous callers are keyed by their address. */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(s_check(s_redis, FD_RL_READ, NULL, "10.0.1.1", &res), BX_OK);
    ck_assert_int_eq(s_check(s_redis, FD_RL_READ, "", "10.0.1.1", &res), BX_ERATELIMIT);
    ck_assert_int_eq(s_check(s_redis, FD_RL_READ, NULL, "10.0.1.3", &res), BX_OK);
}
END_TEST

START_TEST(auth_is_per_ip_whatever_the_user_and_stricter)
{
    fd_rl_result_t res;
    s_limits(100, 100, 2, 1000);
    ck_assert_int_eq(s_check(s_redis, FD_RL_AUTH, "u1", "10.0.2.1", &res), BX_OK);
    ck_assert_str_eq(res.policies[0].policy, "auth");
    ck_assert_int_eq(res.policies[0].limit, 2);
    ck_assert_int_eq(s_check(s_redis, FD_RL_AUTH, NULL, "10.0.2.1", &res), BX_OK);
    ck_assert_int_eq(s_check(s_redis, FD_RL_AUTH, "u2", "10.0.2.1", &res), BX_ERATELIMIT);
    ck_assert_str_eq(res.policy, "auth");
    ck_assert_int_ge(res.retry_after_s, 29); /* one login per 30 s after the burst */
    ck_assert_int_le(res.retry_after_s, 30);
    ck_assert_int_eq(s_check(s_redis, FD_RL_AUTH, "u1", "10.0.2.2", &res), BX_OK);
    ck_assert_int_eq(s_check(s_redis, FD_RL_READ, NULL, "10.0.2.1", &res), BX_OK);
    ck_assert_int_eq(res.policies[0].remaining, 99);
}
END_TEST

START_TEST(ip_ceiling_covers_every_class)
{
    fd_rl_result_t res;
    s_limits(100, 100, 100, 4);
    ck_assert_int_eq(s_check(s_redis, FD_RL_READ, "u1", "10.0.3.1", &res), BX_OK);
    ck_assert_int_eq(s_check(s_redis, FD_RL_WRITE, "u2", "10.0.3.1", &res), BX_OK);
    ck_assert_int_eq(s_check(s_redis, FD_RL_AUTH, NULL, "10.0.3.1", &res), BX_OK);
    ck_assert_int_eq(s_check(s_redis, FD_RL_NONE, NULL, "10.0.3.1", &res), BX_OK);
    ck_assert_int_eq(res.npolicies, 1);
    ck_assert_str_eq(res.policies[0].policy, "ip");
    ck_assert_int_eq(res.policies[0].remaining, 0);
    ck_assert_int_eq(s_check(s_redis, FD_RL_READ, "u3", "10.0.3.1", &res), BX_ERATELIMIT);
    ck_assert_str_eq(res.policy, "ip");
    ck_assert_int_eq(res.policies[0].allowed, 1); /* u3's own quota is untouched */
    ck_assert_int_eq(res.policies[0].remaining, 100);
    ck_assert_int_ge(res.retry_after_s, 14);
    ck_assert_int_le(res.retry_after_s, 15);
    ck_assert_int_eq(s_check(s_redis, FD_RL_READ, "u3", "10.0.3.2", &res), BX_OK);
    ck_assert_int_eq(res.policies[0].remaining, 99);
}
END_TEST

START_TEST(headers_are_formatted_exactly)
{
    fd_rl_result_t res;
    char policy[128], state[128], tiny[12];
    s_limits(6000, 600, 2, 30000);
    ck_assert_int_eq(s_check(s_redis, FD_RL_READ, "u1", "10.0.4.1", &res), BX_OK);
    fd_ratelimit_headers(&res, policy, sizeof policy, state, sizeof state);
    ck_assert_str_eq(policy, "\"read\";q=6000;w=60, \"ip\";q=30000;w=60");
    ck_assert_str_eq(state, "\"read\";r=5999;t=1, \"ip\";r=29999;t=1");

    s_limits(6000, 600, 2, 60);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(s_check(s_redis, FD_RL_AUTH, NULL, "10.0.4.2", &res), BX_OK);
    ck_assert_int_eq(s_check(s_redis, FD_RL_AUTH, NULL, "10.0.4.2", &res), BX_ERATELIMIT);
    fd_ratelimit_headers(&res, policy, sizeof policy, state, sizeof state);
    ck_assert_str_eq(policy, "\"auth\";q=2;w=60, \"ip\";q=60;w=60");
    ck_assert_str_eq(state, "\"auth\";r=0;t=30, \"ip\";r=58;t=1");
    ck_assert_int_eq(res.retry_after_s, 30);

    ck_assert_int_eq(s_check(s_redis, FD_RL_NONE, NULL, "10.0.4.3", &res), BX_OK);
    fd_ratelimit_headers(&res, policy, sizeof policy, state, sizeof state);
    ck_assert_str_eq(policy, "\"ip\";q=60;w=60");
    ck_assert_str_eq(state, "\"ip\";r=59;t=1");

    /* Small buffers are cut, never overrun. */
    memset(tiny, 'x', sizeof tiny);
    fd_ratelimit_headers(&res, tiny, 8, state, sizeof state);
    ck_assert_str_eq(tiny, "\"ip\";q=");
    ck_assert_int_eq(tiny[8], 'x');
}
END_TEST

typedef struct {
    int port;    /* Redis port, or 0 for the fallback */
    int allowed; /* out: requests allowed */
} s_worker_t;

static void *s_worker(void *arg)
{
    s_worker_t *w = arg;
    fd_rl_result_t res;
    bx_redis_t *r = w->port ? bx_redis_new("127.0.0.1", w->port, 1000) : NULL;
    for (int i = 0; i < 100; i++)
        w->allowed += fd_ratelimit_check(r, FD_RL_WRITE, "shared", "10.0.5.1", &res) == BX_OK;
    bx_redis_destroy(&r);
    return NULL;
}

/* 8 threads, each with its own connection, race 800 writes at a quota of 200. */
static void s_race(int port)
{
    pthread_t t[8];
    s_worker_t w[8];
    memset(w, 0, sizeof w);
    s_limits(100, 200, 2, 1000000);
    double t0 = bx_metrics_now();
    for (int i = 0; i < 8; i++) {
        w[i].port = port;
        ck_assert_int_eq(pthread_create(&t[i], NULL, s_worker, &w[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        total += w[i].allowed;
    }
    double took = bx_metrics_now() - t0;
    /* 200 at once, plus one per 300 ms of the race itself. */
    ck_assert_msg(total >= 200 && total <= 200 + (int)(took / 0.3) + 1, "%d allowed in %.3f s",
                  total, took);
}

START_TEST(concurrent_callers_never_exceed_the_quota)
{
    s_race(s_redis_port());
    s_race(0);
}
END_TEST

START_TEST(keys_hold_no_credentials_and_group_addresses)
{
    char out[64];
    fd_rl_result_t res;
    const char *token = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    s_limits(100, 100, 100, 1000);
    ck_assert_int_eq(s_check(s_redis, FD_RL_READ, token, "10.0.6.1", &res), BX_OK);
    ck_assert_int_eq(
        s_check(s_redis, FD_RL_READ, "0190a3c4-1111-7abc-8def-0123456789ab", "10.0.6.1", &res),
        BX_OK);
    char pattern[64];
    snprintf(pattern, sizeof pattern, "%s*", s_cfg.prefix);
    redisReply *r = bx_redis_cmd(s_redis, "KEYS %s", pattern);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->elements, 3); /* two user keys, one ip key */
    int uuid_seen = 0;
    for (size_t i = 0; i < r->elements; i++) {
        const char *k = r->element[i]->str;
        ck_assert_msg(!strstr(k, "eyJ") && !strstr(k, "c2lnbmF0dXJl"), "key %s", k);
        uuid_seen |= strstr(k, "read:u:0190a3c4-1111-7abc-8def-0123456789ab") != NULL;
        redisReply *ttl = bx_redis_cmd(s_redis, "PTTL %s", k);
        ck_assert_ptr_nonnull(ttl);
        ck_assert_int_gt(ttl->integer, 0); /* every key expires */
        ck_assert_int_le(ttl->integer, 61000);
        freeReplyObject(ttl);
    }
    ck_assert(uuid_seen);
    freeReplyObject(r);

    s_ident_ip("2001:db8:1:2:aaaa::1", out, sizeof out);
    ck_assert_str_eq(out, "2001:db8:1:2::/64");
    s_ident_ip("::ffff:10.1.2.3", out, sizeof out);
    ck_assert_str_eq(out, "10.1.2.3");
    s_ident_ip("not an address", out, sizeof out);
    ck_assert_int_eq(strncmp(out, "h:", 2), 0);
    ck_assert_int_eq((int)strlen(out), 34);
    /* One IPv6 host (its /64) shares one ceiling. */
    s_limits(100, 100, 100, 2);
    ck_assert_int_eq(s_check(s_redis, FD_RL_NONE, NULL, "2001:db8:1:2::1", &res), BX_OK);
    ck_assert_int_eq(s_check(s_redis, FD_RL_NONE, NULL, "2001:db8:1:2::ffff", &res), BX_OK);
    ck_assert_int_eq(s_check(s_redis, FD_RL_NONE, NULL, "2001:db8:1:2:1::", &res), BX_ERATELIMIT);
    ck_assert_int_eq(s_check(s_redis, FD_RL_NONE, NULL, "2001:db8:1:3::1", &res), BX_OK);
}
END_TEST

START_TEST(bad_arguments_are_refused_without_harm)
{
    fd_rl_result_t res;
    char policy[128], state[128];
    fd_rl_config_t bad = {
        .per_min = {0, 1, 1, 0}, .ip_per_min = 1, .fallback_divisor = 1, .prefix = "x:"};
    ck_assert_int_eq(fd_ratelimit_init(&bad), BX_EINVAL);
    bad.per_min[0] = 1;
    bad.prefix[0] = '\0';
    ck_assert_int_eq(fd_ratelimit_init(&bad), BX_EINVAL);
    s_limits(2, 2, 2, 100);
    ck_assert_int_eq(fd_ratelimit_check(s_redis, FD_RL_READ, NULL, "10.0.7.1", NULL), BX_EINVAL);
    ck_assert_int_eq(fd_ratelimit_check(s_redis, (fd_rl_class_t)99, NULL, "10.0.7.1", &res),
                     BX_EINVAL);
    ck_assert_int_eq(res.allowed, 1);
    fd_ratelimit_headers(&res, policy, sizeof policy, state, sizeof state);
    ck_assert_str_eq(policy, "");
    /* No address: all such requests share the client "unknown". */
    ck_assert_int_eq(fd_ratelimit_check(s_redis, FD_RL_READ, NULL, NULL, &res), BX_OK);
    ck_assert_int_eq(fd_ratelimit_check(s_redis, FD_RL_READ, NULL, "", &res), BX_OK);
    ck_assert_int_eq(fd_ratelimit_check(s_redis, FD_RL_READ, NULL, NULL, &res), BX_ERATELIMIT);
}
END_TEST

/* Sends this process's stderr to a fresh file; returns the saved descriptor. */
static int s_capture_stderr(const char *path)
{
    int saved = dup(STDERR_FILENO);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    dup2(fd, STDERR_FILENO);
    close(fd);
    return saved;
}

static void s_restore_stderr(int saved)
{
    dup2(saved, STDERR_FILENO);
    close(saved);
}

static int s_count_in_file(const char *path, const char *needle)
{
    char line[4096];
    int n = 0;
    FILE *fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    while (fgets(line, sizeof line, fp))
        n += strstr(line, needle) != NULL;
    fclose(fp);
    return n;
}

START_TEST(redis_down_falls_back_locally_and_still_limits)
{
    fd_rl_result_t res;
    char log[64];
    snprintf(log, sizeof log, "/tmp/bx-rl-down-%d.log", (int)getpid());
    bx_redis_t *dead = bx_redis_new("127.0.0.1", S_CLOSED_PORT, 200);
    s_limits(5, 3, 2, 1000);
    int saved = s_capture_stderr(log);
    double t0 = bx_metrics_now();
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(s_check(dead, FD_RL_READ, "u1", "10.0.8.1", &res), BX_OK);
        ck_assert_int_eq(res.local, 1);
        ck_assert_int_eq(res.policies[0].remaining, 4 - i);
    }
    ck_assert_int_eq(s_check(dead, FD_RL_READ, "u1", "10.0.8.1", &res), BX_ERATELIMIT);
    ck_assert_int_eq(res.local, 1);
    ck_assert_int_ge(res.retry_after_s, 1);
    ck_assert_int_le(res.retry_after_s, 12);
    for (int i = 0; i < 200; i++)
        s_check(i % 2 ? dead : NULL, FD_RL_READ, "u1", "10.0.8.1", &res);
    ck_assert_int_eq(res.allowed, 0);
    ck_assert_int_eq(s_check(dead, FD_RL_READ, "u2", "10.0.8.1", &res), BX_OK);
    double took = bx_metrics_now() - t0;
    s_restore_stderr(saved);
    ck_assert_msg(took < 5.0, "the fallback path took %.3f s for 207 checks", took);
    ck_assert_int_eq(s_count_in_file(log, "in-process fallback"), 1);
    unlink(log);
    bx_redis_destroy(&dead);
}
END_TEST

START_TEST(fallback_table_is_bounded_and_keeps_limiting_when_full)
{
    fd_rl_result_t res;
    char ip[32];
    s_limits(2, 2, 2, 1000);
    for (int i = 0; i < 3 * S_LOCAL_SLOTS; i++) {
        snprintf(ip, sizeof ip, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        ck_assert_int_eq(s_check(NULL, FD_RL_READ, NULL, ip, &res), BX_OK);
    }
    ck_assert_int_eq(s_check(NULL, FD_RL_READ, NULL, "192.0.2.1", &res), BX_OK);
    ck_assert_int_eq(s_check(NULL, FD_RL_READ, NULL, "192.0.2.1", &res), BX_OK);
    ck_assert_int_eq(s_check(NULL, FD_RL_READ, NULL, "192.0.2.1", &res), BX_ERATELIMIT);
    ck_assert_int_eq(res.local, 1);
}
END_TEST

START_TEST(hands_back_to_redis_when_it_returns)
{
    fd_rl_result_t res;
    char port[16], log[64], rlog[64];
    snprintf(port, sizeof port, "%d", S_REVIVE_PORT);
    snprintf(log, sizeof log, "/tmp/bx-rl-revive-%d.log", (int)getpid());
    snprintf(rlog, sizeof rlog, "/tmp/bx-rl-redis-%d.log", (int)getpid());
    const char *argv[] = {"redis-server", "--port", port,           "--bind", "127.0.0.1",
                          "--save",       "",       "--appendonly", "no",     NULL};
    bx_redis_t *r = bx_redis_new("127.0.0.1", S_REVIVE_PORT, 500);
    s_limits(100, 100, 100, 1000);
    int saved = s_capture_stderr(log);

    ck_assert_int_eq(s_check(r, FD_RL_READ, "u1", "10.0.9.1", &res), BX_OK);
    ck_assert_int_eq(res.local, 1); /* nothing listens yet */
    pid_t pid = bx_h_spawn("/usr/bin/redis-server", argv, NULL, rlog);
    ck_assert_int_eq(bx_h_wait_port(S_REVIVE_PORT, 10000), 0);
    int local = 1;
    for (int i = 0; i < 200 && local; i++) {
        s_check(r, FD_RL_READ, "u1", "10.0.9.1", &res);
        local = res.local;
        if (local)
            s_sleep_ms(50);
    }
    ck_assert_msg(!local, "still deciding locally 10 s after Redis came back");
    ck_assert_int_eq(res.policies[0].remaining, 99); /* a fresh Redis: a fresh bucket */

    bx_h_stop(pid, SIGKILL, 5000);
    ck_assert_int_eq(s_check(r, FD_RL_READ, "u1", "10.0.9.1", &res), BX_OK);
    ck_assert_int_eq(res.local, 1);
    s_restore_stderr(saved);
    ck_assert_int_eq(s_count_in_file(log, "in-process fallback"), 2); /* once per outage */
    ck_assert_int_eq(s_count_in_file(log, "reachable again"), 1);
    unlink(log);
    unlink(rlog);
    bx_redis_destroy(&r);
}
END_TEST

START_TEST(decisions_are_counted_in_metrics)
{
    fd_rl_result_t res;
    s_limits(1, 1, 1, 1000);
    double allowed = bx_series_value(s_m_decisions[FD_RL_READ][1]);
    double limited = bx_series_value(s_m_decisions[FD_RL_READ][0]);
    double local = bx_series_value(s_m_local), trips = bx_series_value(s_m_seconds);
    s_check(s_redis, FD_RL_READ, "u1", "10.0.10.1", &res);
    s_check(s_redis, FD_RL_READ, "u1", "10.0.10.1", &res);
    s_check(NULL, FD_RL_READ, "u1", "10.0.10.1", &res);
    ck_assert(bx_series_value(s_m_decisions[FD_RL_READ][1]) == allowed + 2);
    ck_assert(bx_series_value(s_m_decisions[FD_RL_READ][0]) == limited + 1);
    ck_assert(bx_series_value(s_m_local) == local + 1);
    ck_assert(bx_series_value(s_m_seconds) == trips + 2);
    char *text = bx_metrics_render();
    ck_assert_ptr_nonnull(strstr(text, "# TYPE bx_ratelimit_decisions_total counter\n"
                                       "bx_ratelimit_decisions_total{policy=\"read\","
                                       "result=\"limited\"} "));
    ck_assert_ptr_nonnull(strstr(text, "\nbx_ratelimit_fallback_total "));
    ck_assert_ptr_nonnull(strstr(text, "\nbx_ratelimit_redis_seconds_count "));
    free(text);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("redis");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, burst_up_to_the_quota_then_refused_with_retry_after);
    tcase_add_test(tc, refused_requests_consume_nothing);
    tcase_add_test(tc, the_quota_refills_at_the_gcra_rate);
    tcase_add_test(tc, users_are_isolated_and_anonymous_callers_are_keyed_by_ip);
    tcase_add_test(tc, auth_is_per_ip_whatever_the_user_and_stricter);
    tcase_add_test(tc, ip_ceiling_covers_every_class);
    tcase_add_test(tc, headers_are_formatted_exactly);
    tcase_add_test(tc, concurrent_callers_never_exceed_the_quota);
    tcase_add_test(tc, keys_hold_no_credentials_and_group_addresses);
    tcase_add_test(tc, bad_arguments_are_refused_without_harm);
    tcase_add_test(tc, decisions_are_counted_in_metrics);
    suite_add_tcase(s, tc);
    TCase *down = tcase_create("fallback");
    tcase_set_timeout(down, 120);
    tcase_add_test(down, redis_down_falls_back_locally_and_still_limits);
    tcase_add_test(down, fallback_table_is_bounded_and_keeps_limiting_when_full);
    tcase_add_test(down, hands_back_to_redis_when_it_returns);
    suite_add_tcase(s, down);
    return s;
}
