#!/usr/bin/env python3
"""openapi-holds.py: writes the inventory and hold operations (frontdoor/fd_inventory.c,
frontdoor/fd_holds.c) into contracts/openapi.json. JSON-aware and idempotent: it replaces
only its own paths, its own components (names listed below) and the "inventory" tag, and
leaves every other part of the document as it is (other modules edit it too).

    python3 tools/openapi-holds.py [contracts/openapi.json]
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
SEAT_STATE = {"type": "string", "enum": ["available", "held", "sold", "blocked"]}


def ref(kind, name):
    return {"$ref": kind + name}


def headers(*extra):
    h = {n: ref(H, n) for n in ("X-Request-Id", "traceparent", "RateLimit-Policy", "RateLimit")}
    for n in extra:
        h[n] = ref(H, n)
    return h


def content(schema, xml=True):
    c = {"application/json": {"schema": ref(S, schema)}}
    if xml:
        c["application/xml"] = {"schema": ref(S, schema)}
    return c


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


HOLD_ID = {"name": "holdId", "in": "path", "required": True,
           "description": "A hold id (the id of the request that made it).", "schema": UUID}
ADMISSION = {"name": "Admission-Token", "in": "header", "required": False,
             "description": "While the event's virtual waiting room is active, the signed "
                            "admission token it gave this customer for this event; without "
                            "one the hold answers 403 (401 for a forged, expired, spent or "
                            "another customer's or event's token).",
             "schema": {"type": "string", "maxLength": 4096}}
Q_SEATS = {"name": "seats", "in": "query", "required": False,
           "description": "false: tier counts and settings only, without the seat map.",
           "schema": {"type": "string", "enum": ["true", "false"], "default": "true"}}

SCHEMAS = {
    "HoldInput": {
        "type": "object", "additionalProperties": False, "required": [],
        "description": "One of three shapes: {seats} (explicit seats by label or seat id), "
                       "{tier_id, quantity} (general admission), or {tier_id, quantity, "
                       "best_available: true, together?} (the best seats of a seated tier). "
                       "All or nothing.",
        "properties": {
            "seats": {"type": "array", "minItems": 1, "maxItems": 100,
                      "items": {"type": "string", "minLength": 1, "maxLength": 64,
                                "description": "a seat label (\"A12\") or seat id of this event"},
                      "description": "explicit seats, each once; per tier within its order limits"},
            "tier_id": {"type": "string", "format": "uuid",
                        "description": "GA tier (with quantity) or seated tier (best_available)"},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 100,
                         "description": "within the tier's min_per_order..max_per_order"},
            "best_available": {"type": "boolean",
                               "description": "pick the best seats of a seated tier: best rows "
                                              "first, nearest the row's centre"},
            "together": {"type": "boolean",
                         "description": "best_available only; default true: side by side in "
                                        "one row. false: side by side when possible, else the "
                                        "best seats spread over rows"}}},
    "HoldSeat": {
        "type": "object",
        "properties": {"seat_id": UUID, "label": {"type": "string"},
                       "section": {"type": "string"}, "row": {"type": "string"},
                       "tier_id": UUID, "price_minor": {"type": "integer"}}},
    "PriceLine": {
        "type": "object",
        "properties": {"tier_id": UUID, "name": {"type": "string"},
                       "unit_price_minor": {"type": "integer"}, "quantity": {"type": "integer"},
                       "subtotal_minor": {"type": "integer"}}},
    "Hold": {
        "type": "object",
        "properties": {
            "id": UUID, "type": {"type": "string", "const": "hold"},
            "attributes": {
                "type": "object",
                "properties": {
                    "event_id": UUID, "user_id": UUID,
                    "kind": {"type": "string", "enum": ["seats", "ga", "best_available"]},
                    "state": {"type": "string",
                              "enum": ["active", "released", "expired", "converted"]},
                    "tier_id": {"type": ["string", "null"], "format": "uuid",
                                "description": "GA holds: the tier"},
                    "quantity": {"type": "integer"},
                    "seats": {"type": "array", "items": ref(S, "HoldSeat")},
                    "price": {"type": "object", "properties": {
                        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                        "total_minor": {"type": "integer",
                                        "description": "integer minor units, fixed when held"},
                        "lines": {"type": "array", "items": ref(S, "PriceLine")}}},
                    "expires_at": {"type": "string", "format": "date-time"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "ended_at": {"type": ["string", "null"], "format": "date-time"}}},
            "links": ref(S, "Links")}},
    "HoldDocument": {"type": "object", "required": ["data"],
                     "properties": {"data": ref(S, "Hold")}},
    "InventoryTier": {
        "type": "object",
        "properties": {"id": UUID, "name": {"type": "string"},
                       "kind": {"type": "string", "enum": ["seated", "ga"]},
                       "price_minor": {"type": "integer"}, "currency": {"type": "string"},
                       "capacity": {"type": "integer"}, "available": {"type": "integer"},
                       "held": {"type": "integer"}, "sold": {"type": "integer"},
                       "blocked": {"type": "integer"}}},
    "Inventory": {
        "type": "object",
        "properties": {
            "id": UUID, "type": {"type": "string", "const": "inventory"},
            "attributes": {
                "type": "object",
                "properties": {
                    "event_id": UUID, "status": {"type": "string"},
                    "version": {"type": "integer",
                                "description": "counts committed inventory changes"},
                    "currency": {"type": "string"},
                    "updated_at": {"type": "string", "format": "date-time"},
                    "settings": ref(S, "InventorySettings"),
                    "tiers": {"type": "array", "items": ref(S, "InventoryTier")},
                    "sections": {
                        "type": ["array", "null"],
                        "description": "the seat map (null with ?seats=false)",
                        "items": {"type": "object", "properties": {
                            "code": {"type": "string"},
                            "rows": {"type": "array", "items": {"type": "object", "properties": {
                                "label": {"type": "string"},
                                "seats": {"type": "array", "items": {
                                    "type": "object", "properties": {
                                        "id": UUID, "label": {"type": "string"},
                                        "tier_id": UUID, "state": SEAT_STATE}}}}}}}}}}},
            "links": ref(S, "Links")}},
    "InventoryDocument": {"type": "object", "required": ["data"],
                          "properties": {"data": ref(S, "Inventory")}},
    "InventorySettings": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "hold_ttl_s": {"type": "integer", "minimum": 5, "maximum": 7200,
                           "description": "hold lifetime; default 600"},
            "max_per_user": {"type": "integer", "minimum": 1, "maximum": 1000,
                             "description": "tickets per customer and event, across holds and "
                                            "bookings; default 10"},
            "orphan_rule": {"type": "boolean",
                            "description": "refuse holds that leave a single seat alone between "
                                           "taken seats or at a row's end; default false"}}},
    "InventoryTierChange": {
        "type": "object", "additionalProperties": False, "required": ["tier_id"],
        "properties": {
            "tier_id": {"type": "string", "format": "uuid"},
            "price_minor": {"type": "integer", "minimum": 0, "maximum": 100000000000,
                            "description": "new price for new holds (held prices stay)"},
            "capacity": {"type": "integer", "minimum": 0, "maximum": 1000000,
                         "description": "GA tiers only; never below held + sold (409), never "
                                        "above the area's room (409)"}}},
    "InventoryInput": {
        "type": "object", "additionalProperties": False, "required": [],
        "properties": {
            "block": {"type": "array", "minItems": 1, "maxItems": 1000,
                      "items": {"type": "string", "minLength": 1, "maxLength": 64},
                      "description": "seats (labels or ids) to block: house seats, kills; "
                                     "held or sold seats cannot be (409)"},
            "unblock": {"type": "array", "minItems": 1, "maxItems": 1000,
                        "items": {"type": "string", "minLength": 1, "maxLength": 64},
                        "description": "blocked seats to offer again (the waitlist is told)"},
            "tiers": {"type": "array", "minItems": 1, "maxItems": 50,
                      "items": ref(S, "InventoryTierChange")},
            "settings": ref(S, "InventorySettings")}},
}

PATHS = {
    "/api/v1/events/{eventId}/inventory": {
        "get": {
            "operationId": "getInventory", "tags": ["inventory"],
            "summary": "Availability: tier counts and the seat map",
            "description": "Anyone, for published and on-sale events (others: the owning "
                           "organization's partners and admins). Tier counts (available, held, "
                           "sold, blocked), hold settings and each seat's state. The document "
                           "is cached per inventory version, so revalidating with If-None-Match "
                           "is cheap and never stale. JSON only.",
            "x-boxoffice-rate-limit": "read", "security": [{}, {"bearerAuth": []}],
            "parameters": [ref(P, "EventId"), Q_SEATS, ref(P, "XRequestId"),
                           ref(P, "Traceparent"), ref(P, "IfNoneMatch")],
            "responses": {
                "200": {"description": "The inventory.",
                        "headers": headers("ETag", "Cache-Control", "Last-Modified"),
                        "content": content("InventoryDocument", xml=False)},
                "304": ref(R, "NotModified"),
                **problems("400", "404", "406", "429", "503")}},
        "put": {
            "operationId": "updateInventory", "tags": ["inventory"],
            "summary": "Partner inventory control",
            "description": "Partners of the owning organization and admins (another "
                           "organization's event: 404). Blocks and unblocks seats, changes "
                           "tier prices and GA capacities (never below what is held or sold), "
                           "changes the hold settings; all in one transaction that waits for "
                           "running holds of the event: anything refused (409 naming the seats "
                           "or tier) changes nothing. Answers the tier counts.",
            "x-boxoffice-rate-limit": "write", "x-boxoffice-role": "partner",
            "security": [{"bearerAuth": []}],
            "parameters": [ref(P, "EventId"), ref(P, "XRequestId"), ref(P, "Traceparent")],
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": ref(S, "InventoryInput")}}},
            "responses": {
                "200": {"description": "The inventory after the change (no seat map).",
                        "headers": headers(), "content": content("InventoryDocument")},
                **problems("400", "401", "403", "404", "406", "409", "413", "415", "429",
                           "503")}}},
    "/api/v1/events/{eventId}/inventory/hold": {
        "post": {
            "operationId": "createHold", "tags": ["inventory"],
            "summary": "Hold seats, a GA quantity, or the best available seats",
            "description": "Customers. Checked here (event on sale, seats of this event, tier "
                           "on sale, quantities within the tier's order limits, the waiting "
                           "room's admission), then decided by the hold worker that owns the "
                           "event: all or nothing, within the per-customer limit and, when the "
                           "event enables it, the orphan-seat rule. 409 lists what was not "
                           "available (unavailable, orphaned, limit/have or available). The "
                           "hold lasts the event's hold_ttl_s (10 minutes by default) and is "
                           "released automatically when it expires. Goes through the pipeline: "
                           "201 with the hold when it is decided within Prefer: wait, else 202.",
            "x-boxoffice-rate-limit": "write", "security": [{"bearerAuth": []}],
            "parameters": [ref(P, "EventId"), ref(P, "XRequestId"), ref(P, "Traceparent"),
                           ref(P, "IdempotencyKey"), ref(P, "Prefer"), ref(P, "AdmissionToken")],
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": ref(S, "HoldInput")}}},
            "responses": {
                "201": {"description": "The hold: seats, expiry and price summary.",
                        "headers": headers("Link", "Preference-Applied", "Idempotent-Replayed"),
                        "content": content("HoldDocument")},
                "202": accepted(),
                **problems("400", "401", "403", "404", "406", "409", "413", "415", "422", "429",
                           "503")}}},
    "/api/v1/events/{eventId}/inventory/hold/{holdId}": {
        "get": {
            "operationId": "getHold", "tags": ["inventory"],
            "summary": "Read one's own hold",
            "description": "The hold's owner only; anyone else gets 404.",
            "x-boxoffice-rate-limit": "read", "security": [{"bearerAuth": []}],
            "parameters": [ref(P, "EventId"), HOLD_ID, ref(P, "XRequestId"),
                           ref(P, "Traceparent")],
            "responses": {
                "200": {"description": "The hold.", "headers": headers(),
                        "content": content("HoldDocument")},
                **problems("401", "404", "406", "429", "503")}},
        "delete": {
            "operationId": "releaseHold", "tags": ["inventory"],
            "summary": "Release one's own hold",
            "description": "The hold's owner only; anyone else gets 404 and nothing changes. "
                           "The seats go back on sale and are offered to the waitlist. Goes "
                           "through the hold pool (it serializes with the event's holds); a "
                           "hold already released or expired answers its document at once; a "
                           "hold that became a booking answers 409.",
            "x-boxoffice-rate-limit": "write", "security": [{"bearerAuth": []}],
            "parameters": [ref(P, "EventId"), HOLD_ID, ref(P, "XRequestId"),
                           ref(P, "Traceparent"), ref(P, "Prefer")],
            "responses": {
                "200": {"description": "The hold, now released.",
                        "headers": headers("Link", "Preference-Applied"),
                        "content": content("HoldDocument")},
                "202": accepted(),
                **problems("401", "404", "406", "409", "429", "503")}}},
}


def main():
    with open(DOC, encoding="utf-8") as f:
        doc = json.load(f)
    comps = doc["components"]
    comps["schemas"].update(SCHEMAS)
    comps["parameters"].setdefault("AdmissionToken", ADMISSION)
    doc["paths"].update(PATHS)
    if not any(t.get("name") == "inventory" for t in doc.get("tags", [])):
        doc.setdefault("tags", []).append(
            {"name": "inventory",
             "description": "Availability, holds and partner inventory control (docs/holds.md)."})
    tmp = DOC + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, DOC)


if __name__ == "__main__":
    main()
