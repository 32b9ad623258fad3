#!/usr/bin/env python3
"""openapi_payments.py: writes the payment operations (frontdoor/fd_payments.c) into
contracts/openapi.json. JSON-aware and idempotent: it replaces only its own paths, its own
components (names below) and the "payments" tag; everything else stays as it is.

    python3 tools/openapi_payments.py [contracts/openapi.json]
"""
import json
import os
import sys

DOC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "contracts", "openapi.json")

R = "#/components/responses/"
H = "#/components/headers/"
S = "#/components/schemas/"
P = "#/components/parameters/"
UUID = {"type": "string", "format": "uuid"}


def ref(kind, name):
    return {"$ref": kind + name}


def headers(*extra):
    h = {n: ref(H, n) for n in ("X-Request-Id", "traceparent", "RateLimit-Policy", "RateLimit")}
    for n in extra:
        h[n] = ref(H, n)
    return h


def content(schema):
    return {"application/json": {"schema": ref(S, schema)},
            "application/xml": {"schema": ref(S, schema)}}


def problems(*codes):
    names = {"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound",
             "406": "NotAcceptable", "409": "Conflict", "413": "PayloadTooLarge",
             "415": "UnsupportedMediaType", "422": "Unprocessable", "429": "TooManyRequests",
             "503": "ServiceUnavailable"}
    return {c: ref(R, names[c]) for c in codes}


def accepted():
    return {"description": "Accepted: recorded durably and queued, not finished within the wait. "
                           "Poll Location (GET /api/v1/requests/{requestId}).",
            "headers": headers("Location", "Retry-After", "Preference-Applied",
                               "Idempotent-Replayed"),
            "content": content("RequestDocument")}


PAYMENT_ID = {"name": "paymentId", "in": "path", "required": True,
              "description": "A payment id (the id of the request that made it; also the "
                             "gateway idempotency key).", "schema": UUID}
COMMON = [ref(P, "XRequestId"), ref(P, "Traceparent")]
WRITE = COMMON + [ref(P, "IdempotencyKey"), ref(P, "Prefer")]

SCHEMAS = {
    "PaymentInput": {
        "type": "object", "additionalProperties": False,
        "required": ["booking_id", "provider", "method"],
        "description": "Card payments send a card token (payment_method), never a card number: "
                       "a field that looks like one (13-19 digits passing Luhn) is refused with "
                       "422. upi needs vpa, netbanking bank, wallet wallet. stripe takes card; "
                       "razorpay takes card, upi, netbanking and wallet.",
        "properties": {
            "booking_id": UUID,
            "provider": {"type": "string", "enum": ["stripe", "razorpay"]},
            "method": {"type": "string", "enum": ["card", "upi", "netbanking", "wallet"]},
            "payment_method": {"type": "string", "minLength": 1, "maxLength": 64,
                               "description": "card token, e.g. pm_card_visa"},
            "vpa": {"type": "string", "minLength": 3, "maxLength": 100},
            "bank": {"type": "string", "minLength": 2, "maxLength": 16},
            "wallet": {"type": "string", "minLength": 2, "maxLength": 32},
            "return_url": {"type": "string", "maxLength": 400, "format": "uri",
                           "pattern": "^https?://"},
        },
    },
    "RefundInput": {
        "type": "object", "additionalProperties": False, "required": ["reason"],
        "properties": {
            "amount_minor": {"type": "integer", "minimum": 1, "maximum": 1000000000000,
                             "description": "minor units; absent: everything still refundable"},
            "reason": {"type": "string", "minLength": 1, "maxLength": 200,
                       "pattern": "^[^\\u0000-\\u001f\\u007f<>]*$"},
        },
    },
    "Payment": {
        "type": "object",
        "properties": {
            "booking_id": UUID, "user_id": UUID,
            "provider": {"type": "string", "enum": ["stripe", "razorpay"]},
            "method": {"type": "string", "enum": ["card", "upi", "netbanking", "wallet"]},
            "status": {"type": "string", "enum": ["processing", "requires_action", "succeeded",
                                                   "failed", "unknown", "refunded"]},
            "amount_minor": {"type": "integer"}, "currency": {"type": "string"},
            "captured_minor": {"type": "integer"}, "refunded_minor": {"type": "integer"},
            "next_action": {"type": ["object", "null"], "properties": {
                "type": {"type": "string", "enum": ["redirect"]},
                "url": {"type": "string", "format": "uri"}}},
            "failure_code": {"type": ["string", "null"]},
            "failure_message": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "refunds": {"type": "array", "items": {"type": "object", "properties": {
                "id": UUID, "amount_minor": {"type": "integer"},
                "status": {"type": "string", "enum": ["pending", "succeeded", "failed"]},
                "reason": {"type": ["string", "null"]}}}},
        },
    },
    "PaymentDocument": {
        "type": "object", "properties": {"data": {"type": "object", "properties": {
            "id": UUID, "type": {"type": "string", "enum": ["payment"]},
            "attributes": ref(S, "Payment"),
            "links": {"type": "object", "properties": {"self": {"type": "string"}}}}}}},
    "RefundDocument": {
        "type": "object", "properties": {"data": {"type": "object", "properties": {
            "id": UUID, "type": {"type": "string", "enum": ["refund"]},
            "attributes": {"type": "object", "properties": {
                "payment_id": UUID, "booking_id": UUID, "amount_minor": {"type": "integer"},
                "status": {"type": "string"}, "captured_minor": {"type": "integer"},
                "refunded_minor": {"type": "integer"}}}}}}},
    "GatewayEventReceived": {
        "type": "object", "properties": {"received": {"type": "boolean"},
                                         "event_id": {"type": "string"}}},
}


def op(op_id, summary, desc, rl, body=None, auth=True, params=None, responses=None):
    o = {"operationId": op_id, "tags": ["payments"], "summary": summary, "description": desc,
         "x-boxoffice-rate-limit": rl, "security": [{"bearerAuth": []}] if auth else [],
         "parameters": params if params is not None else COMMON, "responses": responses}
    if body:
        o["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": ref(S, body)}}}
    return o


def webhook(provider, sig):
    return {"post": op(
        "receive" + provider.capitalize() + "Webhook", provider.capitalize() + " webhook",
        "Called by the gateway, no bearer token. The raw body's signature (" + sig + ") is "
        "verified with the webhook secret; a bad, missing or stale signature is 400 and nothing "
        "is written. A verified event is recorded durably for the payment pool (deduplicated "
        "by event id, settled by asking the gateway) and answered 200.", "none", auth=False,
        responses={"200": {"description": "Recorded.", "headers": headers(),
                           "content": content("GatewayEventReceived")},
                   **problems("400", "406", "413", "503")})}


PATHS = {
    "/api/v1/payments": {"post": op(
        "createPayment", "Pay a booking",
        "The booking's owner pays a booking pending payment through a gateway. The request id "
        "is the payment id and the gateway idempotency key: a retried or re-run job never "
        "charges twice. 201 succeeded (the booking is confirmed); 202 with status "
        "requires_action (next_action.url: where the customer goes: 3-D Secure, bank page), "
        "processing (UPI collect) or unknown (the gateway did not answer; settled by asking "
        "it); 402 declined (the booking stays payable until its payment_due_at: try another "
        "method). 409 when the booking is not pending payment.", "write", body="PaymentInput",
        params=WRITE, responses={
            "201": {"description": "Paid.", "headers": headers("Link", "Preference-Applied",
                                                               "Idempotent-Replayed"),
                    "content": content("PaymentDocument")},
            "202": accepted(),
            "402": {"description": "Declined (problem payment-declined, detail names the "
                                   "failure code).", "headers": headers()},
            **problems("400", "401", "404", "406", "409", "413", "415", "422", "429", "503")})},
    "/api/v1/payments/{paymentId}": {"get": op(
        "getPayment", "Read a payment",
        "The payer, members of the event's organization and admins; anyone else 404.", "read",
        params=[PAYMENT_ID] + COMMON, responses={
            "200": {"description": "The payment with its refunds.", "headers": headers(),
                    "content": content("PaymentDocument")},
            **problems("400", "401", "404", "406", "429", "503")})},
    "/api/v1/payments/{paymentId}/refund": {"post": op(
        "refundPayment", "Refund a payment in part or in full",
        "Members of the event's organization and admins (the payer gets 403: customers cancel "
        "the booking instead; anyone else 404). Never more than captured minus refunded (409). "
        "Without amount_minor: everything still refundable. The refund id is the request id, "
        "sent as the gateway's idempotency key.", "write", body="RefundInput",
        params=[PAYMENT_ID] + WRITE, responses={
            "201": {"description": "Refunded.", "headers": headers("Link", "Preference-Applied",
                                                                   "Idempotent-Replayed"),
                    "content": content("RefundDocument")},
            "202": accepted(),
            **problems("400", "401", "403", "404", "406", "409", "413", "415", "422", "429",
                       "503")})},
    "/api/v1/payments/webhooks/stripe": webhook("stripe", "Stripe-Signature: t=..., v1=HMAC-SHA256 of \"t.body\", 5 minutes of tolerance"),
    "/api/v1/payments/webhooks/razorpay": webhook("razorpay", "X-Razorpay-Signature: hex HMAC-SHA256 of the body; X-Razorpay-Event-Id required"),
}

with open(DOC) as f:
    doc = json.load(f)
for k, v in PATHS.items():
    doc["paths"][k] = v
for k, v in SCHEMAS.items():
    doc["components"]["schemas"][k] = v
tags = [t for t in doc.get("tags", []) if t.get("name") != "payments"]
tags.append({"name": "payments", "description": "Payments through gateway adapters (Stripe, "
             "Razorpay), refunds and gateway webhooks (docs/payments.md)."})
doc["tags"] = tags
with open(DOC, "w") as f:
    json.dump(doc, f, indent=2, ensure_ascii=False)
    f.write("\n")
