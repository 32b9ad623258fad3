/* bx-worker-ticket: the ticket pool (service "ticket", op issue; tk_issue). */
#include "bx_wire.h"
#include "bx_worker.h"
#include "tk_issue.h"

int main(void)
{
    bx_worker_opts_t opts = {
        .service = BX_SVC_TICKET,
        .handler = tk_issue_handle,
    };
    return bx_worker_main("worker-ticket", &opts);
}
