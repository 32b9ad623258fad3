/* bx-worker-waitlist: the waitlist pool (service "waitlist": offers released inventory in
 * order and settles offers that are over, wl_offer) and the waiting room's gatekeeper
 * (admissions, expiries, sold-out flags, wl_gate) as its tick. */
#include "bx_config.h"
#include "bx_wire.h"
#include "bx_worker.h"
#include "wl_gate.h"
#include "wl_offer.h"

int main(void)
{
    static volatile sig_atomic_t stop;
    if (bx_worker_boot("worker-waitlist") != BX_OK)
        return 2;
    bx_worker_signals(&stop);
    wl_gate_t *gate = wl_gate_new();
    bx_worker_opts_t opts = {
        .service = BX_SVC_WAITLIST,
        .handler = wl_offer_handle,
        .thread_init = wl_offer_thread_init,
        .thread_fini = wl_offer_thread_fini,
        .tick = wl_gate_tick,
        .arg = gate,
        .tick_ms = (int)bx_config_int("waitroom_tick_ms"),
        .batch_max = 8,
        .batch_key = wl_offer_batch_key,
        .batch_begin = wl_offer_batch_begin,
        .batch_done = wl_offer_batch_done,
    };
    bx_worker_t *worker = gate ? bx_worker_new(&opts) : NULL;
    int rc = worker ? bx_worker_run(worker, &stop) : -1;
    bx_worker_destroy(&worker);
    wl_gate_destroy(&gate);
    zsys_shutdown();
    return rc == 0 ? 0 : 1;
}
