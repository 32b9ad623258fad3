/* bx-worker-hold: the hold pool. Runs the hold jobs (bx_hold) in the runtime's batch mode,
 * so that one event's holds commit many at a time, and sweeps expired holds (bx_hold_expiry)
 * on its main thread. Configuration: hold_batch_max (jobs per transaction), worker_credit
 * (executors), scheduler_tick_ms (expiry sweep period). */
#include <czmq.h>

#include "bx_config.h"
#include "bx_hold.h"
#include "bx_hold_expiry.h"
#include "bx_wire.h"
#include "bx_worker.h"

int main(void)
{
    static volatile sig_atomic_t stop;
    static bx_hold_expiry_t expiry;
    if (bx_worker_boot("worker-hold") != BX_OK)
        return 2;
    bx_worker_signals(&stop);
    bx_worker_opts_t opts = {
        .service = BX_SVC_HOLD,
        .handler = bx_hold_handle,
        .thread_init = bx_hold_thread_init,
        .thread_fini = bx_hold_thread_fini,
        .arg = &expiry,
        .tick = bx_hold_expiry_tick,
        .batch_max = (int)bx_config_int("hold_batch_max"),
        .batch_key = bx_hold_batch_key,
        .batch_begin = bx_hold_batch_begin,
        .batch_end = bx_hold_batch_end,
        .batch_done = bx_hold_batch_done,
    };
    bx_worker_t *worker = bx_worker_new(&opts);
    if (!worker)
        return 1;
    int rc = bx_worker_run(worker, &stop);
    if (rc == 0)
        bx_worker_destroy(&worker);
    bx_hold_expiry_close(&expiry);
    zsys_shutdown();
    return rc == 0 ? 0 : 1;
}
