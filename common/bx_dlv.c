/* bx_dlv: the message type catalog, notification defaults, and the outbox entry points
 * every transaction that causes a message calls. */
#include "bx_dlv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_json.h"
#include "bx_util.h"

#define S_ORDER_KEY_MAX 100 /* bytes of an ordering key */

const bx_dlv_type_t bx_dlv_types[] = {
    {"account.welcome", "transactional", 0, BX_DLV_EMAIL, "user registration"},
    {"booking.confirmed", "transactional", 1, BX_DLV_EMAIL | BX_DLV_SMS | BX_DLV_PUSH,
     "the ticket pool, once a booking's tickets are issued (with the QR codes)"},
    {"payment.receipt", "transactional", 0, BX_DLV_EMAIL,
     "the payment pool, when a payment succeeds"},
    {"payment.refunded", "transactional", 1, BX_DLV_EMAIL | BX_DLV_PUSH,
     "the payment pool, when a refund succeeds"},
    {"booking.cancelled", "transactional", 1, BX_DLV_EMAIL | BX_DLV_SMS | BX_DLV_PUSH,
     "the checkout pool, when a booking is cancelled"},
    {"hold.expiring", "transactional", 1, BX_DLV_EMAIL | BX_DLV_PUSH,
     "the notify pool's sweep, hold_expiring_notice_s before an active hold expires"},
    {"queue.admitted", "transactional", 1, BX_DLV_EMAIL | BX_DLV_SMS | BX_DLV_PUSH,
     "the notify pool's sweep, after the gatekeeper admitted the customer"},
    {"waitlist.offer", "transactional", 1, BX_DLV_EMAIL | BX_DLV_SMS | BX_DLV_PUSH,
     "the notify pool's sweep, after the waitlist pool offered the customer a hold"},
    {"event.reminder", "reminders", 0, BX_DLV_EMAIL | BX_DLV_SMS | BX_DLV_PUSH,
     "the notify pool's sweep, 24 h before the event, once per confirmed booking"},
    {"event.changed", "partner_updates", 0, BX_DLV_EMAIL | BX_DLV_PUSH,
     "a partner changing an event's time or place: every ticket holder, once"},
    {"event.cancelled", "transactional", 1, BX_DLV_EMAIL | BX_DLV_SMS | BX_DLV_PUSH,
     "a partner cancelling an event: every ticket holder, once"},
    {"marketing.announcement", "marketing", 0, BX_DLV_EMAIL | BX_DLV_PUSH, "admin test endpoint"},
    {"webhook.endpoint_disabled", "transactional", 0, BX_DLV_EMAIL,
     "a webhook endpoint disabled by 410 or five days of failure"},
    {NULL, NULL, 0, 0, NULL},
};

const bx_dlv_event_type_t bx_dlv_event_types[] = {
    {"booking.confirmed", "a booking was paid and its tickets issued",
     "the ticket pool, once the tickets exist"},
    {"booking.cancelled", "a booking was cancelled", "the checkout pool"},
    {"payment.refunded", "a payment was refunded", "the payment pool"},
    {"event.updated", "an event was created, changed, published, cancelled or deleted",
     "catalog writes (events, tiers, series, publish, cancel)"},
    {"event.sold_out", "an event has nothing left to sell (all held or sold)",
     "the webhook pool's inventory sweep, once per event"},
    {"inventory.low", "less than inventory_low_pct (10 %) of an event's capacity is left",
     "the webhook pool's inventory sweep, once per event"},
    {"queue.opened", "the waiting room of an event opened (its prequeue started)",
     "the webhook pool's sweep, once per event"},
    {NULL, NULL, NULL},
};

static const char *const s_categories[] = {BX_DLV_CATEGORIES, NULL};

const bx_dlv_type_t *bx_dlv_type(const char *type)
{
    for (const bx_dlv_type_t *t = bx_dlv_types; type && t->type; t++)
        if (!strcmp(t->type, type))
            return t;
    return NULL;
}

int bx_dlv_event_type_known(const char *type)
{
    for (const bx_dlv_event_type_t *t = bx_dlv_event_types; type && t->type; t++)
        if (!strcmp(t->type, type))
            return 1;
    return 0;
}

int bx_dlv_category_known(const char *category)
{
    for (int i = 0; category && s_categories[i]; i++)
        if (!strcmp(s_categories[i], category))
            return 1;
    return 0;
}

int bx_dlv_channel_known(const char *channel)
{
    return channel &&
           (!strcmp(channel, "email") || !strcmp(channel, "sms") || !strcmp(channel, "push"));
}

int bx_dlv_wants(json_t *prefs, const char *channel, const char *category)
{
    if (!strcmp(category, "transactional"))
        return 1;
    json_t *v = json_object_get(json_object_get(prefs, channel), category);
    if (json_is_boolean(v))
        return json_is_true(v);
    if (!strcmp(category, "marketing"))
        return 0;
    return strcmp(channel, "sms") != 0;
}

/* The next sequence number of order_key, in the caller's transaction. */
static bx_err_t s_next_seq(bx_pg_t *pg, const char *order_key, json_int_t *seq)
{
    bx_err_t err;
    const char *p[] = {order_key};
    PGresult *res = bx_pg_query(pg, "dlv_order_next", 1, p, &err);
    if (!res)
        return err;
    *seq = strtoll(bx_pg_val(res, 0, 0), NULL, 10);
    PQclear(res);
    return BX_OK;
}

/* Adds ordering to payload when order_key is set, then writes the outbox row whose
 * request id is the message id. Takes payload. */
static bx_err_t s_write(bx_pg_t *pg, const char *service, const char *topic, json_t *payload,
                        const char *order_key, const char *parent_id, char *msg_id)
{
    char id[BX_UUID_LEN + 1], now[32];
    json_int_t seq = 0;
    bx_err_t err = BX_OK;
    bx_uuid_v7(id);
    bx_time_rfc3339(bx_now_ms() / 1000, now);
    if (order_key && *order_key)
        err = s_next_seq(pg, order_key, &seq);
    if (!err && (json_object_set_new(payload, "message_id", json_string(id)) ||
                 json_object_set_new(payload, "created_at", json_string(now)) ||
                 (seq && (json_object_set_new(payload, "order_key", json_string(order_key)) ||
                          json_object_set_new(payload, "seq", json_integer(seq))))))
        err = BX_ENOMEM;
    char *text = err ? NULL : bx_json_dump(payload);
    json_decref(payload);
    if (!err && !text)
        err = BX_ENOMEM;
    if (!err) {
        const char *p[] = {service, topic, text, id, parent_id ? parent_id : ""};
        err = bx_pg_run(pg, "dlv_outbox_insert", 5, p);
    }
    free(text);
    if (!err && msg_id)
        bx_strlcpy(msg_id, id, BX_UUID_LEN + 1);
    return err;
}

static int s_args_ok(const char *order_key, const char *parent_id, json_t *data)
{
    return (!order_key || strlen(order_key) <= S_ORDER_KEY_MAX) &&
           (!parent_id || !*parent_id || bx_uuid_valid(parent_id)) &&
           (!data || json_is_object(data));
}

bx_err_t bx_dlv_notify_user(bx_pg_t *pg, const char *type, const char *user_id, json_t *data,
                            const char *order_key, const char *parent_id, char *msg_id)
{
    if (!pg || !bx_dlv_type(type) || !bx_uuid_valid(user_id) ||
        !s_args_ok(order_key, parent_id, data))
        return BX_EINVAL;
    json_t *payload = json_pack("{s:s, s:s, s:o}", "type", type, "user_id", user_id, "data",
                                data ? json_incref(data) : json_object());
    if (!payload)
        return BX_ENOMEM;
    return s_write(pg, "notify", type, payload, order_key, parent_id, msg_id);
}

/* The organization of event_id and {"event_id", "event": snapshot} merged with given
 * (borrowed, may be NULL), read in the caller's transaction so the partner sees the event
 * as this change left it. *data is NULL when the event does not exist (anymore). */
static bx_err_t s_event_data(bx_pg_t *pg, const char *event_id, json_t *given,
                             char org[BX_UUID_LEN + 1], json_t **data)
{
    bx_err_t err;
    const char *p[] = {event_id};
    PGresult *res = bx_pg_query(pg, "dlv_event_snapshot", 1, p, &err);
    *data = NULL;
    if (res && PQntuples(res) == 1) {
        bx_strlcpy(org, bx_pg_val(res, 0, 0), BX_UUID_LEN + 1);
        *data = json_pack("{s:s, s:o}", "event_id", event_id, "event",
                          json_loads(bx_pg_val(res, 0, 1), 0, NULL));
        if (*data && given)
            json_object_update(*data, given);
        err = *data ? BX_OK : BX_ENOMEM;
    }
    PQclear(res);
    return err;
}

bx_err_t bx_dlv_partner_event(bx_pg_t *pg, const char *type, const char *org_id,
                              const char *event_id, json_t *data, const char *order_key,
                              const char *parent_id, char *msg_id)
{
    char org[BX_UUID_LEN + 1] = "";
    json_t *full = NULL;
    if (msg_id)
        msg_id[0] = '\0';
    if (!pg || !bx_dlv_event_type_known(type) || (!org_id && !event_id) ||
        (org_id && !bx_uuid_valid(org_id)) || (event_id && !bx_uuid_valid(event_id)) ||
        !s_args_ok(order_key, parent_id, data))
        return BX_EINVAL;
    if (event_id) {
        bx_err_t err = s_event_data(pg, event_id, data, org, &full);
        if (err)
            return err;
        if (!full && !org_id)
            return BX_OK; /* the event is gone (a deleted draft): nobody to tell */
    }
    json_t *payload =
        json_pack("{s:s, s:s, s:o}", "type", type, "org_id", org_id ? org_id : org, "data",
                  full   ? full
                  : data ? json_incref(data)
                         : json_object());
    if (!payload)
        return BX_ENOMEM;
    return s_write(pg, "webhook", type, payload, order_key, parent_id, msg_id);
}
