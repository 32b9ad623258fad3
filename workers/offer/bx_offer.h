/* bx_offer: what comes back to an event's inventory (a released hold, a cancelled
 * booking) offered to the waitlist through the outbox, in the job's transaction. Shared
 * by the hold and checkout pools. */
#ifndef BX_OFFER_H
#define BX_OFFER_H

#include <jansson.h>

#include "bx_worker.h"

/* Offers seats ([{seat_id, tier_id, state}], only those now "available"), one
 * inventory.released row per tier, and GA lines ([{tier_id, quantity}]), one row each, to
 * the waitlist for event. seats or ga may be NULL. */
bx_err_t bx_offer_released(bx_worker_job_t *job, const char *event, json_t *seats, json_t *ga);

#endif
