/* bx_dlv: the entry points of the delivery engine (docs/delivery.md) and its catalog of
 * message types. Any transaction that causes a message (a registration, a catalog change,
 * and later a booking, a refund...) calls bx_dlv_notify_user or bx_dlv_partner_event
 * with its own connection inside its own transaction: the message is then an outbox row
 * that exists if and only if that transaction commits, and the notify / webhook worker
 * pools fan it out into deliveries (one per channel, subscription or endpoint) and send
 * them with retries. Nothing here talks to the network. */
#ifndef BX_DLV_H
#define BX_DLV_H

#include <jansson.h>

#include "bx_err.h"
#include "bx_pg.h"

/* Channels, as bits of bx_dlv_type_t.channels. */
enum { BX_DLV_EMAIL = 1 << 0, BX_DLV_SMS = 1 << 1, BX_DLV_PUSH = 1 << 2 };

/* What a user may switch per channel; transactional is always on. */
#define BX_DLV_CATEGORIES "transactional", "reminders", "marketing", "partner_updates"

/* A message type sent to users. */
typedef struct {
    const char *type;     /* "booking.confirmed": template key and outbox topic */
    const char *category; /* one of BX_DLV_CATEGORIES */
    int urgent;           /* 1: goes out during quiet hours */
    unsigned channels;    /* BX_DLV_* it is sent on (subject to settings and reachability) */
    const char *trigger;  /* what sends it today, or "awaits <what>" */
} bx_dlv_type_t;

/* A partner webhook event type. */
typedef struct {
    const char *type;        /* "booking.confirmed" */
    const char *description; /* one line, for GET /api/v1/webhooks/event-types */
    const char *trigger;     /* what sends it today, or "awaits <what>" */
} bx_dlv_event_type_t;

/* The user message types, ending with {NULL}. */
extern const bx_dlv_type_t bx_dlv_types[];
/* The partner event types, ending with {NULL}. */
extern const bx_dlv_event_type_t bx_dlv_event_types[];

/* The user message type named type, or NULL. */
const bx_dlv_type_t *bx_dlv_type(const char *type);

/* 1 if type is a partner event type. */
int bx_dlv_event_type_known(const char *type);

/* 1 if category is one of BX_DLV_CATEGORIES, channel one of "email", "sms", "push". */
int bx_dlv_category_known(const char *category);
int bx_dlv_channel_known(const char *channel);

/* Whether a user with prefs (the JSON overrides of notification_settings, borrowed, may
 * be NULL) receives category on channel: transactional always; otherwise the user's
 * choice, else the default (marketing off, SMS only for transactional, the rest on). */
int bx_dlv_wants(json_t *prefs, const char *channel, const char *category);

/* Writes a message of user message type to user_id into the outbox, inside the caller's
 * open transaction on pg. data (borrowed, may be NULL) is what its templates show.
 * order_key (may be NULL, at most 100 bytes, e.g. "booking:<id>") makes the messages of
 * one key go out in the order their transactions committed, per channel. parent_id (may
 * be NULL) is the request that caused it. msg_id (37 bytes, may be NULL) receives the
 * message id. Returns BX_OK, BX_EINVAL for an unknown type or bad argument, or the
 * database error (BX_ERETRY included: the caller retries its transaction). */
bx_err_t bx_dlv_notify_user(bx_pg_t *pg, const char *type, const char *user_id, json_t *data,
                            const char *order_key, const char *parent_id, char *msg_id);

/* Writes a partner event (bx_dlv_event_types) for the webhook endpoints of org_id into
 * the outbox, inside the caller's transaction. When event_id is set and org_id is NULL
 * the organization is the event's, and data defaults to a snapshot of the event taken
 * at fan-out. data is borrowed; order_key, parent_id and msg_id as above. Returns BX_OK,
 * BX_EINVAL or the database error. */
bx_err_t bx_dlv_partner_event(bx_pg_t *pg, const char *type, const char *org_id,
                              const char *event_id, json_t *data, const char *order_key,
                              const char *parent_id, char *msg_id);

/* A platform key (signing_keys), created on first use by whichever process asks. */
typedef struct {
    char kid[33];      /* key id */
    char *private_key; /* PEM (callback: Ed25519, vapid: P-256) or base64url (unsubscribe) */
    char *public_key;  /* callback: "whpk_" + base64 raw key; vapid: base64url point; else "" */
} bx_dlv_key_t;

/* Loads the key of purpose ("callback", "vapid" or "unsubscribe") into out, generating
 * and storing it when none exists (outside any transaction of the caller: it commits on
 * its own). Returns BX_OK or an error; free with bx_dlv_key_free. */
bx_err_t bx_dlv_key(bx_pg_t *pg, const char *purpose, bx_dlv_key_t *out);

/* Frees the strings of key (not key itself); safe on a zeroed key. */
void bx_dlv_key_free(bx_dlv_key_t *key);

/* Makes a one-click unsubscribe token for (user, channel, category) signed with the
 * unsubscribe key (base64url text), into out (cap >= 160). Returns BX_OK or BX_EINVAL. */
bx_err_t bx_dlv_unsub_token(const bx_dlv_key_t *key, const char *user_id, const char *channel,
                            const char *category, char *out, size_t cap);

/* Checks token; on success fills user_id (37), channel (8) and category (16) and returns
 * BX_OK; BX_EINVAL for a token that is malformed or not ours. */
bx_err_t bx_dlv_unsub_verify(const bx_dlv_key_t *key, const char *token, char *user_id,
                             char *channel, char *category);

#endif
