/* dlv_main: the process of a delivery pool: configuration, the SSRF policy, the sender
 * threads, the sweeper thread, and the broker side (fan-out jobs of service "notify" or
 * "webhook"). */
#include <curl/curl.h>
#include <czmq.h>
#include <stdio.h>
#include <string.h>

#include "bx_config.h"
#include "bx_log.h"
#include "dlv.h"

static volatile sig_atomic_t s_stop;

static bx_err_t s_config(dlv_cfg_t *cfg, const char *pool)
{
    char why[160] = "";
    cfg->pool = pool;
    cfg->pg_dsn = bx_config_str("pg_dsn");
    cfg->senders = (int)bx_config_int("delivery_senders");
    cfg->batch = (int)bx_config_int("delivery_batch");
    cfg->lease_s = (int)bx_config_int("delivery_lease_s");
    cfg->timeout_ms = bx_config_int("delivery_timeout_ms");
    cfg->backoff_divisor = bx_config_int("delivery_backoff_divisor");
    cfg->poll_ms = bx_config_int("delivery_poll_ms");
    cfg->breaker_threshold = (int)bx_config_int("breaker_threshold");
    cfg->breaker_cooldown_ms = bx_config_int("breaker_cooldown_ms");
    cfg->breaker_max_ms = bx_config_int("breaker_cooldown_max_ms");
    cfg->disable_after_s = bx_config_int("webhook_disable_after_s");
    cfg->sweep_ms = bx_config_int("delivery_sweep_ms");
    cfg->notice_s = (int)bx_config_int("hold_expiring_notice_s");
    cfg->holder_batch = (int)bx_config_int("holder_batch");
    cfg->low_pct = (int)bx_config_int("inventory_low_pct");
    cfg->stop = &s_stop;
    cfg->ssrf = bx_ssrf_new(bx_config_str("delivery_allow_cidrs"), why, sizeof why);
    if (!cfg->ssrf) {
        fprintf(stderr, "boxoffice: bad configuration delivery_allow_cidrs: %s\n", why);
        return BX_EINVAL;
    }
    if ((long)cfg->lease_s * 1000 <= cfg->timeout_ms * 2) {
        fprintf(stderr, "boxoffice: bad configuration: delivery_lease_s must exceed two "
                        "delivery_timeout_ms (an SMS may try two providers)\n");
        return BX_EINVAL;
    }
    return BX_OK;
}

/* Every executor's job state is the pool's configuration (read-only). */
static void *s_job_state(void *arg)
{
    return arg;
}

int dlv_main(const char *pool)
{
    char svc[32];
    dlv_cfg_t cfg = {0};
    snprintf(svc, sizeof svc, "worker-%s", pool);
    if (bx_worker_boot(svc) != BX_OK || s_config(&cfg, pool) != BX_OK)
        return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    bx_worker_signals(&s_stop);
    dlv_sender_t **senders = dlv_senders_start(&cfg);
    dlv_sweeper_t *sweeper = senders ? dlv_sweeper_start(&cfg) : NULL;
    bx_worker_opts_t wopts = {
        .service = pool,
        .handler = !strcmp(pool, "notify") ? dlv_fanout_notify : dlv_fanout_webhook,
        .thread_init = s_job_state,
        .arg = &cfg,
    };
    bx_worker_t *worker = sweeper ? bx_worker_new(&wopts) : NULL;
    int rc = worker ? bx_worker_run(worker, &s_stop) : -1;
    s_stop = 1;
    bx_worker_destroy(&worker);
    dlv_sweeper_join(&sweeper);
    dlv_senders_join(&senders, cfg.senders);
    bx_ssrf_destroy(&cfg.ssrf);
    curl_global_cleanup();
    zsys_shutdown();
    return rc == 0 ? 0 : 1;
}
