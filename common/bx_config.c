/* bx_config: defaults, file, environment; bounds-checked; secrets redacted when printed. */
#include "bx_config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_log.h"

typedef struct {
    const char *key;  /* lower-case name; env var is BOXOFFICE_<KEY upper> */
    const char *def;  /* default value */
    int is_int;       /* value must be an integer within [min, max] */
    long min, max;    /* bounds for integers */
    int secret;       /* never printed */
    const char *help; /* one line */
    char *value;      /* effective value, heap */
} s_opt_t;

#define S_STR(k, d, h) {k, d, 0, 0, 0, 0, h, NULL}
#define S_SECRET(k, d, h) {k, d, 0, 0, 0, 1, h, NULL}
#define S_INT(k, d, lo, hi, h) {k, d, 1, lo, hi, 0, h, NULL}

static s_opt_t s_opts[] = {
    S_STR("log_level", "info", "debug, info, warn or error"),
    S_SECRET("pg_dsn", "host=127.0.0.1 port=15432 dbname=boxoffice user=boxoffice",
             "libpq connection string of the truth database"),
    S_STR("redis_host", "127.0.0.1", "Redis host"),
    S_INT("redis_port", "16379", 1, 65535, "Redis port"),
    S_INT("redis_timeout_ms", "200", 1, 60000, "timeout of each Redis command"),
    S_STR("broker_endpoint", "tcp://127.0.0.1:15555", "ZeroMQ endpoint of the broker"),
    S_INT("broker_queue_max", "20000", 1, 10000000, "bounded queue length per service"),
    S_INT("heartbeat_ms", "1000", 50, 60000, "broker/worker heartbeat interval"),
    S_INT("heartbeat_liveness", "3", 1, 100, "missed heartbeats before a peer is dead"),
    S_INT("worker_credit", "4", 1, 1024, "jobs a worker accepts before replying"),
    S_INT("hold_batch_max", "64", 1, 256, "hold jobs committed in one transaction"),
    S_INT("request_lease_s", "15", 1, 3600, "seconds before a queued or running request is re-dispatched"),
    S_INT("scheduler_tick_ms", "500", 10, 60000, "scheduler tick"),
    S_INT("outbox_relay_ms", "50", 5, 60000, "how often the scheduler relays the outbox"),
    S_INT("cancel_event_page", "500", 1, 10000,
          "bookings one cancel_event job of a cancelled event undoes (the chain does the rest)"),
    S_STR("http_bind", "127.0.0.1", "frontdoor listen address"),
    S_INT("http_port", "8080", 1, 65535, "frontdoor listen port"),
    S_INT("http_threads", "4", 1, 256, "frontdoor HTTP worker threads"),
    S_INT("http_max_connections", "4096", 16, 1000000, "frontdoor connection cap"),
    S_INT("http_timeout_s", "30", 1, 3600, "idle connection timeout"),
    S_INT("search_facet_cache_ms", "2000", 0, 60000,
          "how long a search's facet counts are reused per frontdoor thread (0: never)"),
    S_INT("doc_cache_ttl_s", "300", 0, 86400,
          "seconds an event or venue document stays in the Redis document cache (0: no cache)"),
    S_INT("body_max_bytes", "1048576", 1024, 268435456, "request body cap"),
    S_INT("json_depth_max", "32", 2, 1000, "JSON nesting cap"),
    S_STR("media_dir", "var/media", "content-addressed media store (and upload spool) folder"),
    S_INT("media_max_bytes", "104857600", 1024, 4294967296, "media upload cap (trailers)"),
    S_INT("media_image_max_bytes", "20971520", 1024, 4294967296, "image upload cap"),
    S_INT("wait_default_ms", "2000", 0, 60000, "wait for a pipeline result when Prefer: wait is absent"),
    S_INT("wait_max_ms", "30000", 0, 300000, "cap on Prefer: wait"),
    S_STR("cors_origins", "http://localhost:8080,http://127.0.0.1:8080", "comma-separated CORS allow-list"),
    S_STR("public_base_url", "http://127.0.0.1:8080", "base URL used in links"),
    S_STR("jwt_key_dir", "var/keys", "folder of Ed25519 signing keys (jwt-*.pem)"),
    S_STR("jwt_issuer", "boxoffice", "iss claim"),
    S_INT("jwt_access_ttl_s", "900", 10, 86400, "access token lifetime"),
    S_INT("jwt_refresh_ttl_s", "2592000", 60, 31536000, "refresh token lifetime"),
    S_INT("argon2_memory_kib", "19456", 8, 4194304, "argon2id memory (OWASP: 19 MiB)"),
    S_INT("argon2_iterations", "2", 1, 100, "argon2id time cost"),
    S_INT("rl_auth_per_min", "10", 1, 1000000, "login/register per IP per minute"),
    S_INT("rl_read_per_min", "6000", 1, 100000000, "reads per caller per minute"),
    S_INT("rl_write_per_min", "600", 1, 100000000, "writes per caller per minute"),
    S_INT("rl_ip_per_min", "30000", 1, 100000000, "all requests per IP per minute"),
    /* delivery engine (docs/delivery.md) */
    S_STR("smtp_url", "smtp://127.0.0.1:2525", "SMTP server mail goes through (smtp:// or smtps://)"),
    S_STR("smtp_user", "", "SMTP user name (empty: no authentication)"),
    S_SECRET("smtp_password", "", "SMTP password"),
    S_STR("mail_from", "tickets@boxoffice.test", "envelope and From address of outgoing mail"),
    S_STR("mail_from_name", "boxoffice", "display name of the From address"),
    S_STR("sms_providers", "twilio,vonage", "SMS providers in fallback order (twilio, vonage)"),
    S_STR("sms_from", "+15005550006", "sender number or id of SMS"),
    S_STR("twilio_base_url", "http://127.0.0.1:26480", "Twilio-style API base (the sandbox by default)"),
    S_STR("twilio_account_sid", "ACboxofficesandbox", "Twilio account SID"),
    S_SECRET("twilio_auth_token", "sandbox-token", "Twilio auth token"),
    S_STR("vonage_base_url", "http://127.0.0.1:26480", "Vonage-style Messages API base"),
    S_STR("vonage_api_key", "boxoffice", "Vonage API key"),
    S_SECRET("vonage_api_secret", "sandbox-secret", "Vonage API secret"),
    S_STR("vapid_subject", "mailto:ops@boxoffice.test", "VAPID sub claim (mailto: or https: contact)"),
    S_STR("delivery_allow_cidrs", "", "comma-separated CIDRs that webhook, callback and push URLs may resolve to although private (tests: 127.0.0.1/32)"),
    S_INT("delivery_senders", "4", 1, 64, "sender threads per delivery worker"),
    S_INT("delivery_batch", "32", 1, 1000, "deliveries a sender claims and sends at once"),
    S_INT("delivery_lease_s", "60", 1, 3600, "seconds a claimed delivery stays with its sender before it is due again"),
    S_INT("delivery_timeout_ms", "10000", 100, 120000, "timeout of one outbound attempt"),
    S_INT("delivery_backoff_divisor", "1", 1, 100000000, "divides the retry schedule (tests make hours milliseconds)"),
    S_INT("delivery_poll_ms", "1000", 10, 60000, "longest idle wait of a sender between claims"),
    /* payment gateways (docs/payments.md); defaults point at bx-sandbox */
    S_INT("gateway_timeout_ms", "10000", 100, 120000, "timeout of one payment gateway call"),
    S_STR("stripe_api_base", "http://127.0.0.1:26480", "Stripe API base (the sandbox by default)"),
    S_SECRET("stripe_secret_key", "sk_test_boxoffice_sandbox", "Stripe secret key"),
    S_SECRET("stripe_webhook_secret", "whsec_boxoffice_sandbox", "Stripe webhook endpoint secret"),
    S_STR("razorpay_api_base", "http://127.0.0.1:26480", "Razorpay API base (the sandbox by default)"),
    S_STR("razorpay_key_id", "rzp_test_boxoffice", "Razorpay key id"),
    S_SECRET("razorpay_key_secret", "rzp_sandbox_secret", "Razorpay key secret"),
    S_SECRET("razorpay_webhook_secret", "rzp_whsec_sandbox", "Razorpay webhook secret"),
    S_INT("payment_settle_after_s", "60", 1, 86400, "a payment unknown or processing this long is settled by asking its gateway"),
    S_INT("breaker_threshold", "5", 1, 1000, "consecutive failures that open a circuit breaker"),
    S_INT("breaker_cooldown_ms", "30000", 10, 86400000, "first open period of a breaker (doubles per re-opening)"),
    S_INT("breaker_cooldown_max_ms", "600000", 10, 86400000, "longest open period of a breaker"),
    S_INT("webhook_disable_after_s", "432000", 1, 31536000, "an endpoint failing this long is disabled (5 days)"),
    S_INT("delivery_sweep_ms", "5000", 50, 600000, "period of the delivery pools' sweeps (24 h reminders, hold expiry warnings, inventory marks, queue openings)"),
    S_INT("hold_expiring_notice_s", "120", 10, 3600, "a hold is announced as expiring this long before it does (holds living less than twice this are not)"),
    S_INT("holder_batch", "1000", 1, 10000, "ticket holders one event.changed / event.cancelled fan-out job covers"),
    S_INT("inventory_low_pct", "10", 1, 99, "partner event inventory.low when less than this percent of an event's capacity is left"),
    /* waiting room, waitlist and live inventory feed (docs/waitroom.md) */
    S_INT("waitroom_tick_ms", "250", 20, 10000, "gatekeeper tick of bx-worker-waitlist"),
    S_INT("waitroom_max_rooms", "1000", 1, 100000, "rooms one gatekeeper tick works on"),
    S_INT("waitlist_offer_ttl_s", "600", 5, 86400, "waitlist offer lifetime of events without a room"),
    S_INT("sse_max_clients", "2048", 1, 1000000, "inventory streams one frontdoor serves at once"),
    S_INT("sse_buffer_bytes", "65536", 1024, 16777216, "unsent bytes a stream may queue before its client is dropped as too slow"),
    S_INT("sse_heartbeat_s", "15", 1, 3600, "an idle stream gets a comment line this often"),
    S_INT("metrics_port", "0", 0, 65535, "Prometheus /metrics port of a non-HTTP process (0: off)"),
    S_STR("metrics_bind", "127.0.0.1", "metrics listen address"),
};

#define S_NOPTS (sizeof s_opts / sizeof s_opts[0])

static s_opt_t *s_find(const char *key)
{
    for (size_t i = 0; i < S_NOPTS; i++)
        if (!strcmp(s_opts[i].key, key))
            return &s_opts[i];
    return NULL;
}

static int s_valid(const s_opt_t *o, const char *v, const char **why)
{
    if (!o->is_int)
        return 1;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end) {
        *why = "not an integer";
        return 0;
    }
    if (n < o->min || n > o->max) {
        *why = "out of bounds";
        return 0;
    }
    return 1;
}

static bx_err_t s_assign(s_opt_t *o, const char *v, const char *origin)
{
    const char *why = NULL;
    if (!s_valid(o, v, &why)) {
        fprintf(stderr, "boxoffice: bad configuration %s=%s from %s: %s (allowed %ld..%ld)\n", o->key,
                o->secret ? "[redacted]" : v, origin, why, o->min, o->max);
        return BX_EINVAL;
    }
    char *copy = strdup(v);
    if (!copy)
        return BX_ENOMEM;
    free(o->value);
    o->value = copy;
    return BX_OK;
}

static bx_err_t s_load_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    bx_err_t rc = BX_OK;
    if (!f) {
        fprintf(stderr, "boxoffice: could not open config file %s\n", path);
        return BX_EINVAL;
    }
    while (rc == BX_OK && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *eq = strchr(line, '=');
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (!eq) {
            fprintf(stderr, "boxoffice: config file %s: line without '=': %s\n", path, line);
            rc = BX_EINVAL;
            break;
        }
        *eq = '\0';
        s_opt_t *o = s_find(line);
        if (!o) {
            fprintf(stderr, "boxoffice: config file %s: unknown key %s\n", path, line);
            rc = BX_EINVAL;
            break;
        }
        rc = s_assign(o, eq + 1, path);
    }
    fclose(f);
    return rc;
}

bx_err_t bx_config_load(void)
{
    bx_err_t rc = BX_OK;
    for (size_t i = 0; rc == BX_OK && i < S_NOPTS; i++)
        rc = s_assign(&s_opts[i], s_opts[i].def, "defaults");
    const char *file = getenv("BOXOFFICE_CONFIG");
    if (rc == BX_OK && file && *file)
        rc = s_load_file(file);
    for (size_t i = 0; rc == BX_OK && i < S_NOPTS; i++) {
        char env[96] = "BOXOFFICE_";
        size_t n = strlen(env);
        for (const char *k = s_opts[i].key; *k && n + 1 < sizeof env; k++)
            env[n++] = (char)toupper((unsigned char)*k);
        env[n] = '\0';
        const char *v = getenv(env);
        if (v)
            rc = s_assign(&s_opts[i], v, env);
    }
    if (rc == BX_OK) {
        int lvl = bx_log_level_parse(bx_config_str("log_level"));
        if (lvl < 0) {
            fprintf(stderr, "boxoffice: bad configuration log_level: use debug, info, warn or error\n");
            return BX_EINVAL;
        }
        bx_log_threshold = (bx_log_level_t)lvl;
    }
    return rc;
}

const char *bx_config_str(const char *key)
{
    s_opt_t *o = s_find(key);
    if (!o) {
        fprintf(stderr, "boxoffice: unknown configuration key %s\n", key);
        abort();
    }
    return o->value ? o->value : o->def;
}

long bx_config_int(const char *key)
{
    return strtol(bx_config_str(key), NULL, 10);
}

bx_err_t bx_config_set(const char *key, const char *value)
{
    s_opt_t *o = s_find(key);
    if (!o || !value)
        return BX_EINVAL;
    return s_assign(o, value, "override");
}

void bx_config_log(void)
{
    char buf[12288];
    size_t o = 0;
    for (size_t i = 0; i < S_NOPTS && o < sizeof buf - 1; i++) {
        int n = snprintf(buf + o, sizeof buf - o, "%s%s=%s", i ? " " : "", s_opts[i].key,
                         s_opts[i].secret ? "[redacted]" : bx_config_str(s_opts[i].key));
        if (n < 0)
            break;
        o += (size_t)n;
    }
    BX_INFO("effective configuration: %s", buf);
}
