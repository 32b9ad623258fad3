/* bx_offer: released seats and GA offered to the waitlist through the outbox. */
#include <string.h>

#include "bx_json.h"
#include "bx_offer.h"

bx_err_t bx_offer_released(bx_worker_job_t *job, const char *event, json_t *seats, json_t *ga)
{
    json_t *by_tier = json_object(), *v, *ids;
    const char *tier;
    size_t i;
    bx_err_t err = by_tier ? BX_OK : BX_ENOMEM;
    json_array_foreach(seats, i, v)
    {
        if (err || strcmp(bx_json_str(v, "state") ? bx_json_str(v, "state") : "", "available"))
            continue;
        tier = bx_json_str(v, "tier_id");
        if (tier && !json_object_get(by_tier, tier))
            json_object_set_new(by_tier, tier, json_array());
        json_array_append(json_object_get(by_tier, tier), json_object_get(v, "seat_id"));
    }
    json_object_foreach(by_tier, tier, ids)
    {
        if (!err)
            err = bx_worker_outbox(
                job, "waitlist", "inventory.released", event,
                json_pack("{s:s, s:s, s:O}", "event_id", event, "tier_id", tier, "seat_ids", ids));
    }
    json_array_foreach(ga, i, v)
    {
        if (!err)
            err = bx_worker_outbox(job, "waitlist", "inventory.released", event,
                                   json_pack("{s:s, s:s, s:O}", "event_id", event, "tier_id",
                                             bx_json_str(v, "tier_id"), "quantity",
                                             json_object_get(v, "quantity")));
    }
    json_decref(by_tier);
    return err;
}
