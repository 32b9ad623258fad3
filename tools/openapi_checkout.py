#!/usr/bin/env python3
"""openapi_checkout.py: writes the checkout operations (frontdoor/fd_bookings.c,
frontdoor/fd_promos.c) and the venue's region into contracts/openapi.json. JSON-aware and
idempotent: it replaces only its own paths and components and leaves the rest as it is.

    python3 tools/openapi_checkout.py [contracts/openapi.json]
"""
import json
import os
import sys

DOC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "contracts", "openapi.json")

R, H, S, P = ("#/components/responses/", "#/components/headers/", "#/components/schemas/",
              "#/components/parameters/")
UUID = {"type": "string", "format": "uuid"}
TS = {"type": ["string", "null"], "format": "date-time"}
NAME_RE = "^[^\\u0000-\\u001f\\u007f<>]*$"
CUR = {"type": "string", "pattern": "^[A-Z]{3}$"}


def ref(kind, name):
    return {"$ref": kind + name}


def headers(*extra):
    h = {n: ref(H, n) for n in ("X-Request-Id", "traceparent", "RateLimit-Policy", "RateLimit")}
    for n in extra:
        h[n] = ref(H, n)
    return h


def content(schema):
    return {"application/json": {"schema": ref(S, schema)}}


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


def integer(lo, hi, desc):
    return {"type": "integer", "minimum": lo, "maximum": hi, "description": desc}


def body(schema):
    return {"required": True, "content": {"application/json": {"schema": ref(S, schema)}}}


BASE = [ref(P, "XRequestId"), ref(P, "Traceparent")]
POST = BASE + [ref(P, "IdempotencyKey")]
PATH_ID = lambda n, d: {"name": n, "in": "path", "required": True, "description": d,
                        "schema": {"type": "string"}}
BOOKING_ID = PATH_ID("bookingId", "Booking id (the id of the POST /bookings request).")
PROMO_ID = PATH_ID("promoId", "Promo code id.")
RULE_ID = PATH_ID("ruleId", "Tax rule id.")
Q_BSTATUS = {"name": "status", "in": "query", "required": False, "description": "Only bookings "
             "in this status.", "schema": {"type": "string", "enum": [
                 "pending_payment", "confirmed", "failed", "expired", "cancelled"]}}
Q_ORG = {"name": "org_id", "in": "query", "required": False,
         "description": "Only this organization's codes.", "schema": UUID}
Q_COUNTRY = {"name": "country", "in": "query", "required": False,
             "description": "Only this country's rules.", "schema": {"type": "string"}}
PCI = (" Every JSON body is searched for card numbers (13-19 digits passing Luhn, also in "
       "groups separated by spaces or dashes): one anywhere answers 422 with problem type "
       "https://boxoffice.dev/problems/card-number-refused and the field's pointer, and is "
       "never stored or logged.")

SCHEMAS = {
    "BookingInput": {
        "type": "object", "additionalProperties": False, "required": ["hold_id"],
        "properties": {
            "hold_id": {"type": "string", "format": "uuid",
                        "description": "an active hold of the caller (the cart)"},
            "promo_code": {"type": "string", "minLength": 3, "maxLength": 32,
                           "description": "matched case-insensitively"},
            "locale": {"type": "string", "maxLength": 16, "pattern": "^[a-z]{2}(-[A-Z]{2})?$",
                       "description": "language of the messages about this booking"}}},
    "BookingCancelInput": {
        "type": "object", "additionalProperties": False, "required": [],
        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 200,
                                  "pattern": NAME_RE}}},
    "BookingLine": {
        "type": "object",
        "properties": {"tier_id": UUID, "name": {"type": "string"},
                       "unit_price_minor": {"type": "integer"}, "quantity": {"type": "integer"},
                       "subtotal_minor": {"type": "integer"},
                       "discount_minor": {"type": "integer", "description": "share of the promo"},
                       "tax_minor": {"type": "integer", "description": "taxes added on top"},
                       "tax_included_minor": {"type": "integer",
                                              "description": "taxes the price already holds"}}},
    "BookingTax": {
        "type": "object",
        "properties": {"name": {"type": "string"},
                       "rate_ppm": {"type": "integer", "description": "parts per million"},
                       "inclusive": {"type": "boolean"},
                       "applies_to": {"type": "string", "enum": ["ticket", "fee"]},
                       "base_minor": {"type": "integer"}, "amount_minor": {"type": "integer"}}},
    "Booking": {
        "type": "object",
        "properties": {
            "id": UUID, "type": {"type": "string", "const": "booking"},
            "attributes": {"type": "object", "properties": {
                "status": {"type": "string", "enum": ["pending_payment", "confirmed", "failed",
                                                      "expired", "cancelled"]},
                "user_id": UUID, "hold_id": UUID,
                "event": {"type": "object", "properties": {
                    "id": UUID, "name": {"type": "string"},
                    "starts_at": {"type": "string", "format": "date-time"},
                    "status": {"type": "string"}}},
                "quantity": {"type": "integer"}, "currency": CUR,
                "lines": {"type": "array", "items": ref(S, "BookingLine")},
                "subtotal_minor": {"type": "integer"}, "discount_minor": {"type": "integer"},
                "fee_minor": {"type": "integer"},
                "tax_minor": {"type": "integer", "description": "taxes added on top"},
                "tax_included_minor": {"type": "integer",
                                       "description": "VAT-style taxes inside the prices"},
                "total_minor": {"type": "integer",
                                "description": "subtotal - discount + fee + tax_minor"},
                "taxes": {"type": "array", "items": ref(S, "BookingTax")},
                "promo_code": {"type": ["string", "null"]},
                "paid_minor": {"type": "integer"}, "refunded_minor": {"type": "integer"},
                "payment_due_at": {"type": "string", "format": "date-time"},
                "confirmed_at": TS, "tickets_issued_at": TS, "cancelled_at": TS,
                "cancel_reason": {"type": ["string", "null"]},
                "failure_reason": {"type": ["string", "null"]},
                "created_at": {"type": "string", "format": "date-time"}}},
            "links": {"type": "object", "properties": {
                "self": {"type": "string"}, "tickets": {"type": "string"},
                "payments": {"type": "string"}, "cancel": {"type": "string"}}}}},
    "BookingDocument": {"type": "object", "required": ["data"],
                        "properties": {"data": ref(S, "Booking")}},
    "BookingList": {"type": "object", "required": ["data"],
                    "properties": {"data": {"type": "array", "items": ref(S, "Booking")},
                                   "links": ref(S, "Links")}},
    "PromoCodeInput": {
        "type": "object", "additionalProperties": False,
        "required": ["code", "kind", "value"],
        "properties": {
            "code": {"type": "string", "minLength": 3, "maxLength": 32,
                     "description": "letters, digits, _ and -; stored upper-case, unique per "
                                    "organization"},
            "kind": {"type": "string", "enum": ["percent", "fixed"]},
            "value": integer(1, 1000000000000, "percent: basis points (at most 10000); fixed: "
                                               "minor units of currency"),
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$",
                         "description": "fixed codes only (required there)"},
            "org_id": {"type": "string", "format": "uuid",
                       "description": "the organization (admins; partners of several)"},
            "event_id": {"type": "string", "format": "uuid",
                         "description": "only this event (of the organization); absent: every "
                                        "event of the organization"},
            "starts_at": {"type": "string", "format": "date-time"},
            "ends_at": {"type": "string", "format": "date-time"},
            "max_uses": integer(1, 100000000, "total redemptions"),
            "per_user_limit": integer(1, 1000, "redemptions per customer"),
            "min_quantity": integer(1, 100, "tickets the order needs; default 1"),
            "active": {"type": "boolean"}}},
    "PromoCodeUpdate": {
        "type": "object", "additionalProperties": False, "required": [],
        "properties": {
            "value": integer(1, 1000000000000, "as on create"),
            "starts_at": {"type": "string", "format": "date-time"},
            "ends_at": {"type": "string", "format": "date-time"},
            "max_uses": integer(1, 100000000, "never below the uses so far (409)"),
            "per_user_limit": integer(1, 1000, "redemptions per customer"),
            "min_quantity": integer(1, 100, "tickets the order needs"),
            "active": {"type": "boolean"}}},
    "PromoCode": {
        "type": "object",
        "properties": {"id": UUID, "type": {"type": "string", "const": "promo_code"},
                       "attributes": {"type": "object", "properties": {
                           "org_id": UUID, "event_id": {"type": ["string", "null"]},
                           "code": {"type": "string"},
                           "kind": {"type": "string", "enum": ["percent", "fixed"]},
                           "value": {"type": "integer"}, "currency": {"type": ["string", "null"]},
                           "starts_at": TS, "ends_at": TS,
                           "max_uses": {"type": ["integer", "null"]},
                           "per_user_limit": {"type": ["integer", "null"]},
                           "min_quantity": {"type": "integer"},
                           "uses": {"type": "integer"}, "active": {"type": "boolean"},
                           "created_at": {"type": "string", "format": "date-time"},
                           "updated_at": {"type": "string", "format": "date-time"}}},
                       "links": ref(S, "Links")}},
    "PromoCodeDocument": {"type": "object", "required": ["data"],
                          "properties": {"data": ref(S, "PromoCode")}},
    "PromoCodeList": {"type": "object", "required": ["data"],
                      "properties": {"data": {"type": "array", "items": ref(S, "PromoCode")},
                                     "links": ref(S, "Links")}},
    "BookingSettingsInput": {
        "type": "object", "additionalProperties": False, "required": [],
        "properties": {
            "service_fee_bp": integer(0, 5000, "of the discounted ticket total; default 0"),
            "service_fee_minor": integer(0, 100000000, "per ticket; default 0"),
            "payment_window_s": integer(60, 7200, "the hold lives this long after checkout; "
                                                  "default 900"),
            "cancellable": {"type": "boolean", "description": "customers may cancel; default true"},
            "cancel_deadline_h": integer(0, 8760, "customer cancels close this many hours "
                                                  "before the start; default 24"),
            "cancel_fee_bp": integer(0, 10000, "kept of the ticket part on a customer cancel; "
                                               "default 0")}},
    "BookingSettingsDocument": {"type": "object", "required": ["data"], "properties": {
        "data": {"type": "object", "properties": {
            "id": UUID, "type": {"type": "string", "const": "booking_settings"},
            "attributes": {"type": "object"}, "links": ref(S, "Links")}}}},
    "TaxRuleInput": {
        "type": "object", "additionalProperties": False,
        "required": ["country", "name", "rate_ppm", "inclusive"],
        "properties": {
            "country": {"type": "string", "minLength": 2, "maxLength": 2},
            "region": {"type": "string", "minLength": 1, "maxLength": 8,
                       "description": "ISO 3166-2 subdivision without the country (NY, MH)"},
            "name": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": NAME_RE},
            "rate_ppm": integer(0, 1000000, "parts per million (18% = 180000)"),
            "inclusive": {"type": "boolean", "description": "VAT style: inside the price"},
            "applies_to": {"type": "string", "enum": ["ticket", "fee"]},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "band_min_minor": integer(0, 1000000000000, "lowest discounted unit price"),
            "band_max_minor": integer(0, 1000000000000, "highest discounted unit price"),
            "valid_from": {"type": "string", "format": "date-time"},
            "valid_to": {"type": "string", "format": "date-time"}}},
    "TaxRuleList": {"type": "object", "required": ["data"], "properties": {
        "data": {"type": "array", "items": {"type": "object"}}}},
    "TaxRuleDocument": {"type": "object", "required": ["data"], "properties": {
        "data": {"type": "object"}}},
}


def op(oid, summary, desc, rl, params, responses, role=None, req=None, tag="bookings"):
    o = {"operationId": oid, "tags": [tag], "summary": summary, "description": desc,
         "x-boxoffice-rate-limit": rl, "security": [{"bearerAuth": []}], "parameters": params,
         "responses": responses}
    if role:
        o["x-boxoffice-role"] = role
    if req:
        o["requestBody"] = body(req)
    return o


def ok(code, desc, schema, *hdrs):
    return {code: {"description": desc, "headers": headers(*hdrs), "content": content(schema)}}


PATHS = {
    "/api/v1/bookings": {
        "post": op("createBooking", "Check out a hold",
                   "Turns the caller's active hold (the cart) into a booking pending payment, "
                   "priced by the checkout pool: tier prices, promo code, service fee and the "
                   "venue's taxes (docs/booking.md). The hold is kept alive until "
                   "payment_due_at. Someone else's or an unknown hold: 404; a released, "
                   "expired or already converted hold: 409; a promo code out of its window, "
                   "below its minimum quantity, used up or over its per-customer limit: 409; an "
                   "unknown code: 422. A second checkout of one hold answers the same booking "
                   "(200)." + PCI, "write", POST + [ref(P, "Prefer")],
                   {**ok("201", "The booking.", "BookingDocument", "Location"),
                    **ok("200", "The hold's existing booking.", "BookingDocument"),
                    "202": accepted(),
                    **problems("400", "401", "404", "406", "409", "413", "415", "422", "429",
                               "503")}, req="BookingInput"),
        "get": op("listBookings", "The caller's booking history",
                  "Newest first, cursor pagination.", "read",
                  [Q_BSTATUS, ref(P, "QLimit"), ref(P, "QCursor")] + BASE,
                  {**ok("200", "A page of bookings.", "BookingList"),
                   **problems("400", "401", "406", "429", "503")})},
    "/api/v1/bookings/{bookingId}": {
        "get": op("getBooking", "Read a booking",
                  "Its owner, members of the event's organization and admins; anyone else "
                  "404.", "read", [BOOKING_ID] + BASE,
                  {**ok("200", "The booking.", "BookingDocument"),
                   **problems("401", "404", "406", "429", "503")})},
    "/api/v1/bookings/{bookingId}/cancel": {
        "post": op("cancelBooking", "Cancel a booking",
                   "The owner (as customer), the event's organization (partner) or an admin. "
                   "Pending payment: abandoned, seats and promo use back. Confirmed: under the "
                   "event's policy (cancellable, before cancel_deadline_h; partners and admins "
                   "bypass the deadline; outside it 409), seats back to sale and the waitlist, "
                   "tickets revoked, and a refund through the payment pool: a customer gets "
                   "the ticket part less cancel_fee_bp (the service fee is kept); a partner or "
                   "admin cancel refunds everything paid. Cancelling twice answers the "
                   "cancelled booking." + PCI, "write",
                   [BOOKING_ID] + POST + [ref(P, "Prefer")],
                   {**ok("200", "The cancelled booking.", "BookingDocument"), "202": accepted(),
                    **problems("400", "401", "404", "406", "409", "413", "415", "422", "429",
                               "503")}, req="BookingCancelInput")},
    "/api/v1/promo-codes": {
        "get": op("listPromoCodes", "Promo codes of the caller's organizations",
                  "Partners see their organizations' codes; admins every code.", "read",
                  [Q_ORG, ref(P, "QLimit"), ref(P, "QCursor")] + BASE,
                  {**ok("200", "A page of codes.", "PromoCodeList"),
                   **problems("400", "401", "403", "406", "429", "503")}, role="partner",
                  tag="promo-codes"),
        "post": op("createPromoCode", "Create a promo code",
                   "For the caller's organization (org_id when they belong to several; "
                   "admins name org_id or event_id), optionally for one event of it. Another "
                   "organization or its event: 404, nothing written. The code is unique per "
                   "organization (409).", "write", POST,
                   {**ok("201", "The code.", "PromoCodeDocument", "Location"),
                    **problems("400", "401", "403", "404", "406", "409", "413", "415", "422",
                               "429", "503")}, role="partner", req="PromoCodeInput",
                   tag="promo-codes")},
    "/api/v1/promo-codes/{promoId}": {
        "get": op("getPromoCode", "Read a promo code", "Its organization's partners and admins; "
                  "anyone else 404.", "read", [PROMO_ID] + BASE,
                  {**ok("200", "The code.", "PromoCodeDocument"),
                   **problems("401", "403", "404", "406", "429", "503")}, role="partner",
                  tag="promo-codes"),
        "put": op("updatePromoCode", "Change a promo code",
                  "Absent members keep their value.", "write", [PROMO_ID] + BASE,
                  {**ok("200", "The code.", "PromoCodeDocument"),
                   **problems("400", "401", "403", "404", "406", "409", "413", "415", "429",
                              "503")}, role="partner", req="PromoCodeUpdate", tag="promo-codes"),
        "delete": op("deletePromoCode", "Delete a promo code",
                     "A code no booking used is deleted; one that was used is switched off "
                     "(bookings keep naming it).", "write", [PROMO_ID] + BASE,
                     {"204": {"description": "Deleted or switched off.", "headers": headers()},
                      **problems("401", "403", "404", "429", "503")}, role="partner",
                     tag="promo-codes")},
    "/api/v1/events/{eventId}/booking-settings": {
        "get": op("getBookingSettings", "An event's fees, payment window and cancellation "
                  "policy", "Partners of the organization and admins; defaults when never set.",
                  "read", [ref(P, "EventId")] + BASE,
                  {**ok("200", "The settings.", "BookingSettingsDocument"),
                   **problems("401", "403", "404", "406", "429", "503")}, role="partner"),
        "put": op("updateBookingSettings", "Change an event's booking settings",
                  "Absent members keep their value. Applies to checkouts and cancels from now "
                  "on.", "write", [ref(P, "EventId")] + BASE,
                  {**ok("200", "The settings.", "BookingSettingsDocument"),
                   **problems("400", "401", "403", "404", "406", "413", "415", "429", "503")},
                  role="partner", req="BookingSettingsInput")},
    "/api/v1/admin/tax-rules": {
        "get": op("listTaxRules", "Tax rules", "Every rule, by place.", "read",
                  [Q_COUNTRY] + BASE, {**ok("200", "The rules.", "TaxRuleList"),
                                       **problems("401", "403", "406", "429", "503")},
                  role="admin", tag="admin"),
        "post": op("createTaxRule", "Add a tax rule",
                   "Applies to checkouts of events at venues of its country (and region) "
                   "from now on.", "write", POST,
                   {**ok("201", "The rule.", "TaxRuleDocument"),
                    **problems("400", "401", "403", "406", "409", "413", "415", "422", "429",
                               "503")}, role="admin", req="TaxRuleInput", tag="admin")},
    "/api/v1/admin/tax-rules/{ruleId}": {
        "delete": op("deleteTaxRule", "Remove a tax rule", "Bookings made keep their taxes.",
                     "write", [RULE_ID] + BASE,
                     {"204": {"description": "Removed.", "headers": headers()},
                      **problems("401", "403", "404", "429", "503")}, role="admin",
                     tag="admin")},
}


def main():
    with open(DOC, encoding="utf-8") as f:
        doc = json.load(f)
    schemas = doc["components"]["schemas"]
    schemas.update(SCHEMAS)
    region = {"type": "string", "minLength": 1, "maxLength": 8,
              "description": "tax jurisdiction below the country: ISO 3166-2 subdivision "
                             "without the country ([A-Z0-9], e.g. NY, MH)"}
    schemas["VenueInput"]["properties"]["region"] = region
    schemas["VenueUpdate"]["properties"]["region"] = dict(region, type=["string", "null"])
    doc["paths"].update(PATHS)
    for name, d in (("bookings", "Checkout, bookings and cancellations (docs/booking.md)."),
                    ("promo-codes", "Promo codes partners manage (docs/booking.md).")):
        if not any(t.get("name") == name for t in doc.get("tags", [])):
            doc.setdefault("tags", []).append({"name": name, "description": d})
    tmp = DOC + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, DOC)


if __name__ == "__main__":
    main()
