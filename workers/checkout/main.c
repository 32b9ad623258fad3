/* bx-worker-checkout: the checkout pool (service checkout): checkout, cancel and
 * cancel_event jobs (co.h), one job per transaction on worker_credit executors. */
#include "bx_wire.h"
#include "bx_worker.h"
#include "co.h"

int main(void)
{
    bx_worker_opts_t opts = {.service = BX_SVC_CHECKOUT, .handler = co_handle};
    return bx_worker_main("worker-checkout", &opts);
}
