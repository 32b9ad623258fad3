/* tk_issue: the ticket pool's job handler. Op "issue" {booking_id}: one signed ticket per
 * sold seat or GA unit of a confirmed booking, exactly once, then the customer's
 * booking.confirmed message and the partner event, all in the job's transaction
 * (docs/tickets.md). */
#ifndef TK_ISSUE_H
#define TK_ISSUE_H

#include "bx_worker.h"

/* The pool's handler (bx_worker_handler_fn). Answers 200 {booking_id, tickets: n,
 * issued: true|false (false: they existed already)}; 404 for an unknown booking; 409
 * while the booking is not confirmed; 400 for a bad payload. */
bx_err_t tk_issue_handle(bx_worker_job_t *job);

#endif
