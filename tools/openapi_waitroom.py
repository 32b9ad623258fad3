#!/usr/bin/env python3
"""openapi_waitroom: writes the waiting-room, waitlist and inventory-stream operations and
their components into contracts/openapi.json. It only sets its own paths, schemas,
parameters and tag (idempotent: running it again gives the same file) and keeps the
document's formatting (indent 2, UTF-8). Usage: python3 tools/openapi_waitroom.py [FILE]"""
import json
import sys

DOC = sys.argv[1] if len(sys.argv) > 1 else "contracts/openapi.json"
TAG = "waiting-room"
R = "#/components/responses/"
P = "#/components/parameters/"
S = "#/components/schemas/"
H = "#/components/headers/"


def ref(kind, name):
    return {"$ref": kind + name}


def std_headers(*extra):
    h = {n: ref(H, n) for n in ("X-Request-Id", "traceparent", "RateLimit-Policy", "RateLimit")}
    for n in extra:
        h[n] = ref(H, n)
    return h


def ok(desc, schema, *extra, xml=True):
    content = {"application/json": {"schema": ref(S, schema)}}
    if xml:
        content["application/xml"] = {"schema": ref(S, schema)}
    return {"description": desc, "headers": std_headers(*extra), "content": content}


def errors(*codes):
    names = {"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound",
             "406": "NotAcceptable", "409": "Conflict", "413": "PayloadTooLarge",
             "415": "UnsupportedMediaType", "422": "Unprocessable", "429": "TooManyRequests",
             "503": "ServiceUnavailable"}
    return {c: ref(R, names[c]) for c in codes}


BASE_PARAMS = [ref(P, "EventId"), ref(P, "XRequestId"), ref(P, "Traceparent")]
BEARER = [{"bearerAuth": []}]


def op(op_id, summary, description, rl, security, params, responses, body=None, role=None):
    o = {"operationId": op_id, "tags": [TAG], "summary": summary, "description": description,
         "x-boxoffice-rate-limit": rl, "security": security, "parameters": params,
         "responses": responses}
    if role:
        o["x-boxoffice-role"] = role
    if body:
        o["requestBody"] = {"required": True,
                            "content": {"application/json": {"schema": ref(S, body)}}}
        keys = ["operationId", "tags", "summary", "description", "x-boxoffice-rate-limit",
                "x-boxoffice-role", "security", "parameters", "requestBody", "responses"]
        o = {k: o[k] for k in keys if k in o}
    return o


def paths():
    room = "/api/v1/events/{eventId}/waiting-room"
    p = {}
    p[room] = {
        "get": op("getWaitingRoom", "The event's waiting room",
                  "Anyone, for events on sale: on/off, phase (closed, pre_queue, sale, off), times, "
                  "rates, and the lottery (seed_sha256 published from the start, seed revealed when "
                  "the sale starts, the ordering algorithm). Partners of the owning organization "
                  "and admins also get live stats: queue length, active shoppers, admissions in the "
                  "last full minute, joined, admitted, spent, abandoned, expired_used, abandon rate, "
                  "sold out.", "read", [{}, {"bearerAuth": []}], BASE_PARAMS,
                  {"200": ok("The room.", "WaitingRoomDocument"), **errors("401", "404", "406", "429", "503")}),
        "put": op("putWaitingRoom", "Configure the event's waiting room",
                  "Partners of the owning organization. Creates the room (201; its lottery seed is "
                  "drawn now and only its SHA-256 is shown until the sale starts) or replaces its "
                  "settings (200). After the sale started its start and pre-queue opening can no "
                  "longer change (409). While enabled, holds need an admission token. Changes reach "
                  "every frontdoor within a second.", "write", BEARER,
                  BASE_PARAMS,
                  {"200": ok("The room, with stats.", "WaitingRoomDocument"),
                   "201": ok("The room was created.", "WaitingRoomDocument"),
                   **errors("400", "401", "403", "404", "406", "409", "413", "415", "429", "503")},
                  body="WaitingRoomInput", role="partner"),
    }
    p[room + "/join"] = {"post": op(
        "joinWaitingRoom", "Take a place in the queue",
        "Customers. One place per customer and event: joining again returns the same place "
        "(200) with a fresh queue token, so closing the tab loses nothing; after an admission "
        "was spent or expired, a new place at the back (201). Before the sale starts every "
        "arrival is in the pre-queue and gets a lottery position when it starts; later "
        "arrivals are first in, first out. The queue token is signed and bound to customer, "
        "event and place: send it in Queue-Token to read the position. 409 before the "
        "pre-queue opens (Retry-After), when the event has no active room, or when it is sold "
        "out (with the waitlist link).", "write", BEARER,
        BASE_PARAMS + [ref(P, "IdempotencyKey")],
        {"200": ok("The existing place.", "WaitingRoomEntryDocument", "Location"),
         "201": ok("A new place.", "WaitingRoomEntryDocument", "Location"),
         **errors("401", "404", "406", "409", "422", "429", "503")})}
    p[room + "/position"] = {"get": op(
        "getWaitingRoomPosition", "Where the caller stands",
        "The customer whose queue token it is. state: pre_queue (before the sale), queued "
        "(position, people_ahead, queue_length, estimated_wait_s, admissions_per_minute), "
        "admitted (admission_token for the Admission-Token header of holds, and its lifetime), "
        "sold_out (with links.waitlist), expired, spent, closed (the room is off: hold "
        "directly). Retry-After says when to ask again (1 to 30 s). 401 for a missing, forged, "
        "expired, another customer's or another event's queue token.", "read", BEARER,
        BASE_PARAMS + [ref(P, "QueueToken")],
        {"200": ok("The position.", "WaitingRoomPositionDocument", "Retry-After"),
         **errors("401", "404", "406", "429", "503")})}
    p[room + "/lottery"] = {"get": op(
        "listWaitingRoomLottery", "The pre-sale lottery, in order",
        "Anyone, once the sale started (409 before): every pre-queue place in lottery order "
        "with its lottery value, and the revealed seed in meta, so anyone can recompute the "
        "order: the first 48 bits (big-endian) of HMAC-SHA256(key = the 32 seed bytes, "
        "message = the place id as lower-case text), ascending, ties by place id; SHA-256 of "
        "the seed bytes is the seed_sha256 published before the sale. Cursor pagination.",
        "read", [{}], BASE_PARAMS + [ref(P, "QLimit"), ref(P, "QCursor")],
        {"200": ok("A page of the lottery.", "LotteryList"),
         **errors("400", "404", "406", "409", "429", "503")})}
    p[room + "/admission"] = {"get": op(
        "checkWaitingRoomAdmission", "Check an admission token",
        "Customers. What the hold path's gate says about the Admission-Token sent: 200 with "
        "required false when the room is off, required true with the token's id and remaining "
        "lifetime when it is valid; 403 when the room is active and no token was sent (the "
        "problem's waiting_room member says where to join); 401 for a forged, expired, spent, "
        "another customer's or another event's token.", "read", BEARER,
        BASE_PARAMS + [ref(P, "AdmissionToken")],
        {"200": ok("The token is accepted (or not needed).", "AdmissionDocument"),
         **errors("401", "403", "404", "406", "429", "503")})}
    wl = "/api/v1/events/{eventId}/waitlist"
    p[wl] = {
        "post": op("joinWaitlist", "Join the waitlist",
                   "Customers, when the event (or the tier given) has nothing left to hold (409 "
                   "otherwise). One live entry per customer and event (200 when already on it). "
                   "Released holds and cancellations are offered in order as an offer hold with "
                   "the event's offer lifetime; an offer that lapses passes to the next person.",
                   "write", BEARER, BASE_PARAMS + [ref(P, "IdempotencyKey")],
                   {"200": ok("Already on the waitlist.", "WaitlistEntryDocument"),
                    "201": ok("Joined.", "WaitlistEntryDocument"),
                    **errors("400", "401", "404", "406", "409", "413", "415", "422", "429", "503")},
                   body="WaitlistInput"),
        "get": op("getWaitlistEntry", "The caller's waitlist entry",
                  "Customers: state (waiting, offered, accepted, lapsed, cancelled), people ahead, "
                  "and the offer (hold id, quantity, expiry) when there is one.", "read", BEARER,
                  BASE_PARAMS,
                  {"200": ok("The entry.", "WaitlistEntryDocument"), **errors("401", "404", "406", "429", "503")}),
        "delete": op("leaveWaitlist", "Leave the waitlist",
                     "Customers. An open offer is released at once and offered to the next person.",
                     "write", BEARER, BASE_PARAMS,
                     {"204": {"description": "Left.", "headers": std_headers()},
                      **errors("401", "404", "429", "503")}),
    }
    p["/api/v1/events/{eventId}/inventory/stream"] = {"get": op(
        "streamInventory", "Live seat and tier changes (Server-Sent Events)",
        "Anyone, for events on sale. text/event-stream: first retry: 2000 and an event "
        "'ready' {version}; then one event 'inventory' per committed change, id = the event's "
        "inventory version, data = {version, event_id, ts, cause, seats: [{seat_id, label, "
        "tier_id, state}], tiers: [{tier_id, capacity, held, sold, available}]}; a comment "
        "line every 15 s when idle. Reconnect with Last-Event-ID (or ?last_event_id) to get "
        "what was missed; when it is too old an event 'reset' {version} says to re-read "
        "GET /inventory. Changes arrive within a second. A client that reads too slowly is "
        "disconnected, never buffered without bound.", "read", [{}],
        BASE_PARAMS + [ref(P, "LastEventId"), ref(P, "QLastEventId")],
        {"200": {"description": "The stream.", "headers": std_headers(),
                 "content": {"text/event-stream": {"schema": {"type": "string"}}}},
         **errors("404", "429", "503")})}
    return p


def obj(props, required=(), additional=False):
    o = {"type": "object"}
    if required:
        o["required"] = list(required)
    o["properties"] = props
    if additional is False:
        o["additionalProperties"] = False
    return o


def doc_of(name):
    return obj({"data": ref(S, name)}, ["data"], additional=None)


def resource(type_name, attrs):
    return obj({"id": {"type": "string"}, "type": {"type": "string", "const": type_name},
                "attributes": attrs, "links": ref(S, "Links")}, ["id", "type", "attributes"],
               additional=None)


def schemas():
    s = {}
    s["WaitingRoomInput"] = obj({
        "enabled": {"type": "boolean", "description": "On: holds need an admission token."},
        "prequeue_opens_at": {"type": ["string", "null"], "format": "date-time",
                              "description": "When customers may start joining (default: now, "
                                             "or the sale start if earlier); not after sale_starts_at."},
        "sale_starts_at": {"type": "string", "format": "date-time",
                           "description": "When the lottery is drawn and admissions begin."},
        "admit_per_minute": {"type": "integer", "minimum": 1, "maximum": 1000000},
        "max_active_shoppers": {"type": "integer", "minimum": 1, "maximum": 10000000},
        "token_ttl_s": {"type": "integer", "minimum": 10, "maximum": 7200,
                        "description": "Admission token lifetime (default 600)."},
        "inventory_margin_pct": {"type": "integer", "minimum": 0, "maximum": 100,
                                 "description": "Active shoppers may exceed the unsold, unheld "
                                                "units by this much (default 10)."},
        "waitlist_offer_ttl_s": {"type": "integer", "minimum": 5, "maximum": 86400,
                                 "description": "Lifetime of a waitlist offer hold (default 600)."},
    }, ["enabled", "sale_starts_at", "admit_per_minute", "max_active_shoppers"])
    stats = obj({k: {"type": "integer"} for k in (
        "queue_length", "active_shoppers", "admissions_last_minute", "joined", "admitted", "spent",
        "abandoned", "expired_used")} | {"available": {"type": "boolean"},
                                         "abandon_rate": {"type": ["number", "null"]},
                                         "sold_out": {"type": "boolean"}}, additional=None)
    lottery = obj({"seed_sha256": {"type": "string"}, "seed": {"type": ["string", "null"]},
                   "algorithm": {"type": "string"}}, additional=None)
    s["WaitingRoom"] = resource("waiting_room", obj({
        "event_id": {"type": "string", "format": "uuid"}, "enabled": {"type": "boolean"},
        "phase": {"type": "string", "enum": ["off", "closed", "pre_queue", "sale"]},
        "prequeue_opens_at": {"type": "string", "format": "date-time"},
        "sale_starts_at": {"type": "string", "format": "date-time"},
        "admit_per_minute": {"type": "integer"}, "max_active_shoppers": {"type": "integer"},
        "token_ttl_s": {"type": "integer"}, "inventory_margin_pct": {"type": "integer"},
        "waitlist_offer_ttl_s": {"type": "integer"}, "updated_at": {"type": "string"},
        "lottery": lottery, "stats": stats}, additional=None))
    s["WaitingRoomDocument"] = doc_of("WaitingRoom")
    s["WaitingRoomEntry"] = resource("waiting_room_entry", obj({
        "event_id": {"type": "string", "format": "uuid"},
        "state": {"type": "string", "enum": ["queued", "admitted"]},
        "pre_queue": {"type": "boolean"}, "joined_at": {"type": "string", "format": "date-time"},
        "sale_starts_at": {"type": "string", "format": "date-time"},
        "queue_token": {"type": "string"}, "queue_token_header": {"type": "string"},
        "seed_sha256": {"type": "string"}}, additional=None))
    s["WaitingRoomEntryDocument"] = doc_of("WaitingRoomEntry")
    s["WaitingRoomPosition"] = resource("waiting_room_position", obj({
        "event_id": {"type": "string", "format": "uuid"},
        "state": {"type": "string", "enum": ["pre_queue", "queued", "admitted", "sold_out",
                                             "expired", "spent", "left", "closed"]},
        "position": {"type": "integer"}, "people_ahead": {"type": "integer"},
        "queue_length": {"type": "integer"}, "estimated_wait_s": {"type": "integer"},
        "admissions_per_minute": {"type": "integer"},
        "sale_starts_at": {"type": "string", "format": "date-time"},
        "admission_token": {"type": "string"}, "admission_header": {"type": "string"},
        "admission_expires_in_s": {"type": "integer"}, "lottery": lottery}, additional=None))
    s["WaitingRoomPositionDocument"] = doc_of("WaitingRoomPosition")
    s["LotteryEntry"] = resource("lottery_entry", obj({
        "lottery": {"type": "integer", "minimum": 0, "maximum": 281474976710655},
        "joined_at": {"type": "string", "format": "date-time"}}, additional=None))
    s["LotteryList"] = obj({"data": {"type": "array", "items": ref(S, "LotteryEntry")},
                            "links": ref(S, "Links"),
                            "meta": obj({"seed": {"type": "string"}, "seed_sha256": {"type": "string"},
                                         "order": {"type": "string"}}, additional=None)},
                           ["data"], additional=None)
    s["Admission"] = resource("admission", obj({
        "event_id": {"type": "string", "format": "uuid"}, "required": {"type": "boolean"},
        "jti": {"type": ["string", "null"]}, "expires_in_s": {"type": "integer"}}, additional=None))
    s["AdmissionDocument"] = doc_of("Admission")
    s["WaitlistInput"] = obj({
        "tier_id": {"type": ["string", "null"], "format": "uuid",
                    "description": "Wait for this tier only (it must be sold out); absent: any."},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 10,
                     "description": "Tickets wanted (default 1)."}})
    s["WaitlistEntry"] = resource("waitlist_entry", obj({
        "event_id": {"type": "string", "format": "uuid"},
        "tier_id": {"type": ["string", "null"], "format": "uuid"},
        "quantity": {"type": "integer"},
        "state": {"type": "string", "enum": ["waiting", "offered", "accepted", "lapsed", "cancelled"]},
        "people_ahead": {"type": ["integer", "null"]},
        "offer": {"type": ["object", "null"], "properties": {
            "hold_id": {"type": "string", "format": "uuid"}, "quantity": {"type": "integer"},
            "expires_at": {"type": "string", "format": "date-time"}}},
        "created_at": {"type": "string", "format": "date-time"}}, additional=None))
    s["WaitlistEntryDocument"] = doc_of("WaitlistEntry")
    return s


def parameters():
    return {
        "QueueToken": {"name": "Queue-Token", "in": "header", "required": True,
                       "description": "The queue token of the join answer (signed, bound to "
                                      "customer, event and place).",
                       "schema": {"type": "string", "maxLength": 4096}},
        "LastEventId": {"name": "Last-Event-ID", "in": "header", "required": False,
                        "description": "The id (inventory version) of the last event received: "
                                       "the stream resumes after it.",
                        "schema": {"type": "integer", "minimum": 0}},
        "QLastEventId": {"name": "last_event_id", "in": "query", "required": False,
                         "description": "Last-Event-ID for clients that cannot send headers.",
                         "schema": {"type": "integer", "minimum": 0}},
    }


def main():
    with open(DOC, encoding="utf-8") as f:
        doc = json.load(f)
    doc["paths"].update(paths())
    doc["components"]["schemas"].update(schemas())
    doc["components"]["parameters"].update(parameters())
    tags = [t for t in doc["tags"] if t["name"] != TAG]
    tags.append({"name": TAG, "description": "Virtual waiting room, waitlist and the live "
                                             "inventory stream (docs/waitroom.md)."})
    doc["tags"] = tags
    with open(DOC, "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
