/* bx-worker-scheduler: registers as the presence-only "scheduler" service (so the broker and
 * /readyz see it alive) and runs the bx_scheduler sweeps as its tick: every outbox_relay_ms
 * (the relay), the other sweeps every scheduler_tick_ms. */
#include "bx_config.h"
#include "bx_scheduler.h"
#include "bx_wire.h"
#include "bx_worker.h"

int main(void)
{
    static volatile sig_atomic_t stop;
    if (bx_worker_boot("worker-scheduler") != BX_OK)
        return 2;
    bx_worker_signals(&stop);
    bx_scheduler_opts_t sopts;
    bx_scheduler_opts_from_config(&sopts);
    bx_scheduler_t *sched = bx_scheduler_new(&sopts);
    bx_worker_opts_t wopts = {.service = BX_SVC_SCHEDULER,
                              .tick = bx_scheduler_tick,
                              .tick_ms = (int)bx_config_int("outbox_relay_ms"),
                              .arg = sched};
    bx_worker_t *worker = sched ? bx_worker_new(&wopts) : NULL;
    int rc = worker ? bx_worker_run(worker, &stop) : -1;
    bx_worker_destroy(&worker);
    bx_scheduler_destroy(&sched);
    zsys_shutdown();
    return rc == 0 ? 0 : 1;
}
