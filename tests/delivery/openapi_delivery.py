#!/usr/bin/python3
"""openapi_delivery: adds (or replaces) the delivery engine's operations and components in
contracts/openapi.json, leaving everything else as it is. Idempotent; run after a merge
that touched the document:  tests/delivery/openapi_delivery.py contracts/openapi.json"""
import json
import sys
from collections import OrderedDict

NAME = "^[^\\u0000-\\u001f\\u007f<>]*$"
TAG_N, TAG_W = "notifications", "webhooks"


def ref(kind, name):
    return {"$ref": "#/components/%s/%s" % (kind, name)}


def obj(props, required=()):
    s = {"type": "object", "additionalProperties": False, "properties": props}
    if required:
        s["required"] = list(required)
    return s


def doc_schema(desc):
    return {"type": "object", "description": desc, "properties": {"data": {}, "links": {"type": "object"}}}


SCHEMAS = {
    "DeliveryDocument": doc_schema("A JSON:API-style document ({data, links}) of a delivery-engine resource."),
    "WebhookEndpointInput": obj({
        "organization_id": {"type": "string", "format": "uuid", "description": "organization the endpoint belongs to"},
        "url": {"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": 2048,
                "description": "receiver URL; refused when it resolves to a loopback, private, link-local, CGNAT, multicast or metadata address"},
        "event_types": {"type": "array", "minItems": 1, "maxItems": 32, "items": {"type": "string"},
                        "description": "event types to receive (GET /api/v1/webhooks/event-types)"},
        "description": {"type": ["string", "null"], "maxLength": 500, "pattern": NAME}},
        ["organization_id", "url", "event_types"]),
    "WebhookEndpointUpdate": obj({
        "url": {"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": 2048},
        "event_types": {"type": "array", "minItems": 1, "maxItems": 32, "items": {"type": "string"}},
        "description": {"type": ["string", "null"], "maxLength": 500, "pattern": NAME},
        "enabled": {"type": "boolean", "description": "false pauses the endpoint; true enables it again and clears its failure run"}}),
    "WebhookRotateInput": obj({
        "overlap_s": {"type": "integer", "minimum": 0, "maximum": 604800,
                      "description": "seconds the previous secret keeps signing beside the new one (default 86400)"}}),
    "WebhookReplayInput": obj({
        "since": {"type": "string", "format": "date-time", "description": "replay deliveries created at or after this time"},
        "only_failed": {"type": "boolean", "description": "only dead-lettered deliveries"}}, ["since"]),
    "WebhookEventInput": obj({
        "type": {"type": "string", "maxLength": 64, "description": "a webhook event type"},
        "organization_id": {"type": "string", "format": "uuid"},
        "event_id": {"type": "string", "format": "uuid", "description": "the organization and a snapshot of the event come from it"},
        "data": {"type": "object"}}, ["type"]),
    "NotificationCategories": obj({c: {"type": "boolean"} for c in
                                   ("transactional", "reminders", "marketing", "partner_updates")}),
    "NotificationSettingsInput": obj({
        "time_zone": {"type": "string", "minLength": 1, "maxLength": 64, "description": "IANA zone of the quiet hours"},
        "quiet_hours": {"type": "object", "additionalProperties": False,
                        "properties": {"start": {"type": "string", "minLength": 5, "maxLength": 5, "description": "HH:MM local"},
                                       "end": {"type": "string", "minLength": 5, "maxLength": 5, "description": "HH:MM local"}},
                        "required": ["start", "end"], "description": "non-urgent messages wait until the end; equal start and end remove them"},
        "channels": obj({ch: ref("schemas", "NotificationCategories") for ch in ("email", "sms", "push")})}),
    "PushSubscriptionInput": obj({
        "endpoint": {"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": 2048},
        "keys": obj({"p256dh": {"type": "string", "minLength": 86, "maxLength": 90},
                     "auth": {"type": "string", "minLength": 16, "maxLength": 24}}, ["p256dh", "auth"]),
        "expirationTime": {"type": ["integer", "null"], "minimum": 0, "maximum": 9007199254740991},
        "user_agent": {"type": "string", "maxLength": 300, "pattern": NAME}}, ["endpoint", "keys"]),
    "NotificationTestInput": obj({
        "user_id": {"type": "string", "format": "uuid"},
        "type": {"type": "string", "maxLength": 64, "description": "a notification message type"},
        "data": {"type": "object", "description": "what the templates show; a sample booking when absent"},
        "order_key": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": NAME}}, ["user_id", "type"]),
}

PARAMS = {
    "EndpointId": {"name": "endpointId", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}},
    "DeliveryId": {"name": "deliveryId", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}},
    "SubscriptionId": {"name": "subscriptionId", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}},
    "QDeliveryStatus": {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["pending", "succeeded", "dead"]}},
    "QUnsubscribeToken": {"name": "token", "in": "query", "required": True, "schema": {"type": "string", "maxLength": 200}},
}

OPS = []


def op(method, path, oid, summary, tag, desc, auth=None, role=None, rl="read", body=None, ok="200",
       params=(), idem=None, extra=(), content="application/json"):
    OPS.append(locals())


# notifications
op("get", "/api/v1/notifications/settings", "getNotificationSettings", "Read my notification settings", TAG_N,
   "Per channel (email, sms, push) and category; transactional is always on; quiet hours in the user's zone.", auth=True)
op("post", "/api/v1/notifications/settings", "updateNotificationSettings", "Change my notification settings", TAG_N,
   "Merges into the stored choices. Switching transactional off is 422.", auth=True, rl="write",
   body="NotificationSettingsInput", idem=True)
op("post", "/api/v1/notifications/push-subscriptions", "createPushSubscription", "Register a browser push subscription",
   TAG_N, "The PushSubscription JSON of the Push API (endpoint, keys.p256dh, keys.auth). The endpoint is SSRF-checked.",
   auth=True, rl="write", body="PushSubscriptionInput", ok="201", idem=True)
op("get", "/api/v1/notifications/push-subscriptions", "listPushSubscriptions", "List my push subscriptions", TAG_N,
   "Newest 50.", auth=True)
op("delete", "/api/v1/notifications/push-subscriptions/{subscriptionId}", "deletePushSubscription",
   "Remove a push subscription", TAG_N, "Only the owner's.", auth=True, rl="write", ok="204", params=("SubscriptionId",))
op("get", "/api/v1/notifications/push/vapid-public-key", "getVapidPublicKey", "The VAPID public key", TAG_N,
   "applicationServerKey for PushManager.subscribe (base64url P-256 point).")
op("get", "/api/v1/notifications/unsubscribe", "unsubscribePage", "One-click unsubscribe page", TAG_N,
   "A page whose button POSTs the same URL (GET never changes anything: mail scanners follow links).",
   params=("QUnsubscribeToken",), content="text/html")
op("post", "/api/v1/notifications/unsubscribe", "unsubscribe", "One-click unsubscribe (RFC 8058)", TAG_N,
   "The List-Unsubscribe target of non-transactional mail; the signed token names user, channel and category.",
   rl="write", params=("QUnsubscribeToken",))
op("post", "/api/v1/admin/notifications/test", "sendTestNotification", "Send any message type to a user", TAG_N,
   "Admin trigger through the outbox and the delivery engine (202; the fan-out request is at Location).",
   auth=True, role="admin", rl="write", body="NotificationTestInput", ok="202", idem=True)
# webhooks
op("get", "/api/v1/webhooks/event-types", "listWebhookEventTypes", "Webhook event types", TAG_W,
   "Every event type an endpoint can subscribe to, with what triggers it today.", auth=True)
op("get", "/api/v1/webhooks/callback-keys", "listCallbackKeys", "Public keys of result callbacks", TAG_W,
   "Result callbacks (Callback-Url) are signed per Standard Webhooks v1a (Ed25519) with these keys (whpk_...).")
op("post", "/api/v1/webhooks/endpoints", "createWebhookEndpoint", "Register a webhook endpoint", TAG_W,
   "The answer shows the signing secret (whsec_...) once.", auth=True, role="partner", rl="write",
   body="WebhookEndpointInput", ok="201", idem=True)
op("get", "/api/v1/webhooks/endpoints", "listWebhookEndpoints", "List an organization's webhook endpoints", TAG_W,
   "Cursor pagination.", auth=True, role="partner", params=("QOrganization_id", "QLimit", "QCursor"))
op("get", "/api/v1/webhooks/endpoints/{endpointId}", "getWebhookEndpoint", "Read a webhook endpoint", TAG_W,
   "Never shows the secret.", auth=True, role="partner", params=("EndpointId",))
op("put", "/api/v1/webhooks/endpoints/{endpointId}", "updateWebhookEndpoint", "Change a webhook endpoint", TAG_W,
   "URL, event types, description, enabled.", auth=True, role="partner", rl="write", body="WebhookEndpointUpdate",
   params=("EndpointId",))
op("delete", "/api/v1/webhooks/endpoints/{endpointId}", "deleteWebhookEndpoint", "Delete a webhook endpoint", TAG_W,
   "Its pending deliveries die.", auth=True, role="partner", rl="write", ok="204", params=("EndpointId",))
op("post", "/api/v1/webhooks/endpoints/{endpointId}/rotate-secret", "rotateWebhookSecret", "Rotate the signing secret",
   TAG_W, "During the overlap both secrets sign (space-separated v1 signatures).", auth=True, role="partner",
   rl="write", body="WebhookRotateInput", params=("EndpointId",), idem=True)
op("get", "/api/v1/webhooks/endpoints/{endpointId}/deliveries", "listWebhookDeliveries", "Delivery log of an endpoint",
   TAG_W, "Newest first, with status, attempts and the last error.", auth=True, role="partner",
   params=("EndpointId", "QDeliveryStatus", "QLimit", "QCursor"))
op("post", "/api/v1/webhooks/endpoints/{endpointId}/replay", "replayWebhookDeliveries", "Replay deliveries since a time",
   TAG_W, "Every finished delivery (or only dead ones) created since `since` is sent again with its webhook-id.",
   auth=True, role="partner", rl="write", body="WebhookReplayInput", ok="202", params=("EndpointId",), idem=True)
op("get", "/api/v1/webhooks/deliveries/{deliveryId}", "getWebhookDelivery", "Read a delivery with its attempts", TAG_W,
   "Each attempt: time, provider, outcome, status, latency and at most 1 KiB of the response.", auth=True,
   params=("DeliveryId",))
op("post", "/api/v1/webhooks/deliveries/{deliveryId}/replay", "replayWebhookDelivery", "Replay one delivery", TAG_W,
   "A new delivery with the same webhook-id (receivers dedupe).", auth=True, rl="write", ok="202",
   params=("DeliveryId",), idem=True)
op("post", "/api/v1/admin/webhooks/events", "sendWebhookEvent", "Send a partner event", TAG_W,
   "Admin trigger of any event type through the outbox and the webhook pool.", auth=True, role="admin",
   rl="write", body="WebhookEventInput", ok="202", idem=True)


def responses(o):
    r = OrderedDict()
    body = {"$ref": "#/components/schemas/DeliveryDocument"}
    if o["ok"] == "204":
        r["204"] = {"description": "Done."}
    elif o["content"] == "text/html":
        r["200"] = {"description": "The page.", "content": {"text/html": {"schema": {"type": "string"}}}}
    else:
        r[o["ok"]] = {"description": "The resource document.", "content": {"application/json": {"schema": body}}}
    if o["body"] or o["params"]:
        r["400"] = ref("responses", "BadRequest")
    if o["auth"]:
        r["401"] = ref("responses", "Unauthorized")
    if o["role"]:
        r["403"] = ref("responses", "Forbidden")
    r["404"] = ref("responses", "NotFound")
    if o["content"] != "text/html":
        r["406"] = ref("responses", "NotAcceptable")
    if o["idem"] or o["method"] in ("post", "put"):
        r["409"] = ref("responses", "Conflict")
        r["422"] = ref("responses", "Unprocessable")
    if o["body"]:
        r["413"] = ref("responses", "PayloadTooLarge")
        r["415"] = ref("responses", "UnsupportedMediaType")
    r["429"] = ref("responses", "TooManyRequests")
    r["503"] = ref("responses", "ServiceUnavailable")
    return r


def operation(o):
    out = OrderedDict()
    out["operationId"] = o["oid"]
    out["summary"] = o["summary"]
    out["tags"] = [o["tag"]]
    out["description"] = o["desc"]
    out["security"] = [{"bearerAuth": []}] if o["auth"] else []
    out["x-boxoffice-rate-limit"] = o["rl"]
    if o["role"]:
        out["x-boxoffice-role"] = o["role"]
    params = [ref("parameters", p) for p in o["params"]]
    params += [ref("parameters", "XRequestId"), ref("parameters", "Traceparent")]
    if o["idem"]:
        params.append(ref("parameters", "IdempotencyKey"))
    out["parameters"] = params
    if o["body"]:
        out["requestBody"] = {"required": True,
                              "content": {"application/json": {"schema": ref("schemas", o["body"])}}}
    if o["oid"] == "unsubscribe":
        out["requestBody"] = {"required": False, "content": {"application/x-www-form-urlencoded": {
            "schema": {"type": "string", "description": "List-Unsubscribe=One-Click"}}}}
    out["responses"] = responses(o)
    return out


def main():
    path = sys.argv[1]
    doc = json.load(open(path), object_pairs_hook=OrderedDict)
    comp = doc["components"]
    for k, v in SCHEMAS.items():
        comp["schemas"][k] = v
    for k, v in PARAMS.items():
        comp["parameters"][k] = v
    for o in OPS:
        doc["paths"].setdefault(o["path"], OrderedDict())[o["method"]] = operation(o)
    tags = doc.setdefault("tags", [])
    for t, d in ((TAG_N, "Notification settings, push subscriptions, unsubscribe (docs/delivery.md)"),
                 (TAG_W, "Partner webhooks, delivery log, replay, result callbacks (docs/delivery.md)")):
        if not any(x.get("name") == t for x in tags):
            tags.append({"name": t, "description": d})
    with open(path, "w") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
