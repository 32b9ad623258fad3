/* bx-worker-payment: the payment pool (docs/payments.md): charges through the gateway
 * adapters, settles webhooks and open payments, refunds. Usage:
 *   bx-worker-payment [--crash-after-gateway]
 * --crash-after-gateway (or BOXOFFICE_PAYMENT_CRASH_AFTER_GATEWAY=1, read once at start)
 * is a fault-injection point for tests: the process exits 137 right after a gateway
 * answered a charge, before the job commits. Off by default; never set it in production. */
#include <curl/curl.h>
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#include "bx_wire.h"
#include "bx_worker.h"
#include "pay_worker.h"

int main(int argc, char **argv)
{
    static volatile sig_atomic_t stop;
    const char *env = getenv("BOXOFFICE_PAYMENT_CRASH_AFTER_GATEWAY");
    pay_crash_after_gateway =
        (env && !strcmp(env, "1")) || (argc > 1 && !strcmp(argv[1], "--crash-after-gateway"));
    if (bx_worker_boot("worker-payment") != BX_OK)
        return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    bx_worker_signals(&stop);
    bx_worker_opts_t opts = {
        .service = BX_SVC_PAYMENT,
        .handler = pay_handle,
        .thread_init = pay_thread_init,
        .thread_fini = pay_thread_fini,
        .tick = pay_sweep_tick,
    };
    bx_worker_t *worker = bx_worker_new(&opts);
    if (!worker)
        return 1;
    int rc = bx_worker_run(worker, &stop);
    if (rc == 0)
        bx_worker_destroy(&worker);
    zsys_shutdown();
    curl_global_cleanup();
    return rc == 0 ? 0 : 1;
}
