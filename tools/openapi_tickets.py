#!/usr/bin/env python3
"""openapi_tickets: writes the ticket, QR, ticket-key, revocation-list and check-in
operations and their components into contracts/openapi.json (docs/tickets.md). It only sets
its own paths, schemas, parameters and tag (idempotent) and keeps the document's formatting
(indent 2, UTF-8). Usage: python3 tools/openapi_tickets.py [FILE]"""
import json
import sys

DOC = sys.argv[1] if len(sys.argv) > 1 else "contracts/openapi.json"
TAG = "tickets"
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
             "503": "ServiceUnavailable", "304": "NotModified"}
    return {c: ref(R, names[c]) for c in codes}


def problem(desc):
    return {"description": desc, "headers": std_headers(),
            "content": {"application/problem+json": {"schema": ref(S, "Problem")}}}


STD = [ref(P, "XRequestId"), ref(P, "Traceparent")]
BEARER = [{"bearerAuth": []}]


def op(op_id, summary, description, rl, security, params, responses, body=None):
    o = {"operationId": op_id, "tags": [TAG], "summary": summary, "description": description,
         "x-boxoffice-rate-limit": rl, "security": security, "parameters": params}
    if body:
        o["requestBody"] = {"required": True,
                            "content": {"application/json": {"schema": ref(S, body)}}}
    o["responses"] = responses
    return o


def image(ctype, desc):
    return {"description": desc, "headers": std_headers("ETag", "Cache-Control"),
            "content": {ctype: {"schema": {"type": "string", "format": "binary"}}}}


def paths():
    p = {}
    p["/api/v1/bookings/{bookingId}/ticket"] = {"get": op(
        "getBookingTickets", "The tickets of a booking",
        "The booking's owner, members of the event's organization and admins (anyone else: "
        "404). One ticket per seat or general-admission unit: label, tier, seat, status "
        "(valid or revoked), the signed payload the QR code carries, check-in time, and links "
        "to the QR images. 202 with Retry-After while a confirmed booking's tickets are being "
        "issued; 409 for a booking that is not paid (or failed, or expired). Payloads verify "
        "offline with GET /api/v1/tickets/keys (docs/tickets.md).", "read", BEARER,
        [ref(P, "BookingId")] + STD + [ref(P, "IfNoneMatch")],
        {"200": ok("The tickets.", "TicketListDocument", "ETag", "Cache-Control"),
         "202": ok("Paid; the tickets are being issued: ask again after Retry-After.",
                   "TicketsIssuingDocument", "Retry-After"),
         **errors("304", "401", "404", "406", "409", "429", "503")})}
    for ext, ctype in (("png", "image/png"), ("svg", "image/svg+xml")):
        p["/api/v1/tickets/{ticketId}/qr." + ext] = {"get": op(
            "getTicketQr" + ext.capitalize(), "The ticket's QR code as " + ext.upper(),
            "Same readers as the booking's tickets (others: 404). The QR code (error correction "
            "M, 4-module quiet zone) of the ticket's signed payload; ?scale sets pixels per "
            "module (1-16, default 8). Private, revalidated by ETag. 410 for a revoked ticket.",
            "read", BEARER, [ref(P, "TicketId"), ref(P, "QScale")] + STD + [ref(P, "IfNoneMatch")],
            {"200": image(ctype, "The image."), "410": problem("The ticket was revoked."),
             **errors("304", "400", "401", "404", "429", "503")})}
    p["/api/v1/tickets/keys"] = {"get": op(
        "getTicketKeys", "The public keys that sign tickets",
        "Anyone. A JSON Web Key Set of Ed25519 keys (kty OKP, crv Ed25519, x, kid): the signing "
        "key first, then every retired key (rotation keeps them, so older tickets verify). "
        "Cacheable for 5 minutes; scanners keep a copy to verify offline.", "read", [{}],
        STD + [ref(P, "IfNoneMatch")],
        {"200": ok("The key set.", "TicketKeySet", "ETag", "Cache-Control"),
         **errors("304", "406", "429", "503")})}
    p["/api/v1/events/{eventId}/tickets/revoked"] = {"get": op(
        "listRevokedTickets", "The event's revoked tickets, for offline scanners",
        "Scanners, admins and partners of the event's organization (others: 403). The ids of "
        "every revoked ticket of the event (revoked when their booking was cancelled), or with "
        "?since those revoked after that time (reaching back 60 s, so a cancellation that "
        "committed late is never missed: treat the ids as a set): keep generated_at and pass "
        "it as since next time. ETag for cheap polling.", "read", BEARER,
        [ref(P, "EventId"), ref(P, "QSince")] + STD + [ref(P, "IfNoneMatch")],
        {"200": ok("The revocation list.", "RevocationList", "ETag", "Cache-Control"),
         **errors("304", "400", "401", "403", "404", "406", "429", "503")})}
    p["/api/v1/checkins"] = {"post": op(
        "checkIn", "Admit a ticket at a gate",
        "Scanners and admins, and partners of the event's organization (others: 403). "
        "Synchronous (one INSERT; a gate cannot wait for a pipeline): verifies the payload's "
        "Ed25519 signature with the key its kid names (422 ticket-invalid for a bad signature, "
        "an unknown kid, a malformed payload, or a ticket never issued), refuses a revoked "
        "ticket (409 ticket-revoked) or a cancelled or completed event (409 "
        "event-not-admitting), and admits exactly once: a second scan, however concurrent, "
        "gets 409 ticket-already-used with scanned_at, gate and device of the first. Not "
        "idempotent by key: a retried scan sees its own first scan in the 409.", "write", BEARER,
        STD,
        {"200": ok("Admitted.", "CheckinResult"),
         **errors("400", "401", "403", "406", "409", "413", "415", "422", "429", "503")},
        body="CheckinInput")}
    return p


def obj(props, required=(), additional=False):
    o = {"type": "object"}
    if required:
        o["required"] = list(required)
    o["properties"] = props
    if additional is False:
        o["additionalProperties"] = False
    return o


STR = {"type": "string"}
UUID = {"type": "string", "format": "uuid"}
TIME = {"type": "string", "format": "date-time"}
NTIME = {"type": ["string", "null"], "format": "date-time"}
NAME = {"type": "string", "minLength": 1, "maxLength": 64,
        "pattern": "^[^\\u0000-\\u001f\\u007f<>]*$",
        "description": "text without control characters or angle brackets"}
PROBLEMS = ["ticket-invalid", "ticket-revoked", "ticket-already-used", "event-not-admitting"]


def schemas():
    s = {}
    s["Ticket"] = obj({
        "id": UUID, "label": STR, "serial": {"type": "integer", "minimum": 1},
        "tier": obj({"id": UUID, "name": STR}),
        "seat": {"type": ["object", "null"], "description": "null for general admission",
                 "properties": {"id": UUID, "label": STR, "section": STR, "row": STR}},
        "status": {"type": "string", "enum": ["valid", "revoked"]},
        "kid": {"type": "string", "description": "Key that signed the payload."},
        "payload": {"type": "string", "maxLength": 256,
                    "description": "BX1.<kid>.<base64url body>.<base64url Ed25519 signature>: "
                                   "what the QR code carries (docs/tickets.md)."},
        "issued_at": TIME, "revoked_at": NTIME, "checked_in_at": NTIME,
        "links": obj({"qr_png": STR, "qr_svg": STR}),
    }, additional=None)
    s["TicketListDocument"] = obj({
        "data": obj({"booking_id": UUID, "booking_status": STR,
                     "tickets": {"type": "array", "items": ref(S, "Ticket")}}),
        "links": obj({"self": STR, "keys": STR})}, ["data"], additional=None)
    s["TicketsIssuingDocument"] = obj({
        "data": obj({"booking_id": UUID, "booking_status": STR,
                     "tickets_status": {"type": "string", "const": "issuing"}})}, ["data"])
    s["TicketKeySet"] = obj({"keys": {"type": "array", "items": obj({
        "kty": {"type": "string", "const": "OKP"}, "crv": {"type": "string", "const": "Ed25519"},
        "x": {"type": "string", "description": "base64url raw public key"}, "kid": STR,
        "use": {"type": "string", "const": "sig"}, "alg": {"type": "string", "const": "EdDSA"}})}},
        ["keys"])
    s["RevocationList"] = obj({
        "event_id": UUID, "generated_at": TIME, "since": TIME, "latest_revoked_at": NTIME,
        "event_status": STR, "revoked": {"type": "array", "items": UUID}},
        ["event_id", "generated_at", "revoked"])
    s["CheckinInput"] = obj({
        "payload": {"type": "string", "minLength": 1, "maxLength": 256},
        "gate": NAME, "device": NAME}, ["payload"])
    s["CheckinResult"] = obj({
        "result": {"type": "string", "const": "admitted"}, "ticket_id": UUID, "event_id": UUID,
        "seat": STR, "serial": {"type": "integer"}, "scanned_at": TIME,
        "gate": {"type": ["string", "null"]}, "device": {"type": ["string", "null"]}})
    return s


def parameters():
    return {
        "BookingId": {"name": "bookingId", "in": "path", "required": True,
                      "schema": {"type": "string", "format": "uuid"}},
        "TicketId": {"name": "ticketId", "in": "path", "required": True,
                     "schema": {"type": "string", "format": "uuid"}},
        "QScale": {"name": "scale", "in": "query", "required": False,
                   "description": "Pixels per QR module (PNG; SVG width and height).",
                   "schema": {"type": "integer", "minimum": 1, "maximum": 16, "default": 8}},
        "QSince": {"name": "since", "in": "query", "required": False,
                   "description": "Only tickets revoked after this time (generated_at of the "
                                  "previous list).",
                   "schema": {"type": "string", "format": "date-time"}},
    }


def main():
    with open(DOC, encoding="utf-8") as f:
        doc = json.load(f)
    doc["paths"].update(paths())
    doc["components"]["schemas"].update(schemas())
    enum = doc["components"]["schemas"]["ProblemType"]["enum"]
    # ProblemType is bx_err's list (test_openapi); our own types are in the operations' text
    doc["components"]["schemas"]["ProblemType"]["enum"] = [
        u for u in enum if u.rsplit("/", 1)[-1] not in PROBLEMS]
    params = doc["components"]["parameters"]
    for name, p in parameters().items():
        if name not in params:  # another area may own an identical BookingId
            params[name] = p
    tags = [t for t in doc["tags"] if t["name"] != TAG]
    tags.append({"name": TAG, "description": "Signed e-tickets, QR codes, ticket keys, "
                                             "revocation lists and check-ins (docs/tickets.md)."})
    doc["tags"] = tags
    with open(DOC, "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
