/* it_ticket: tickets end to end against real processes (frontdoor, broker, hold worker,
 * scheduler, bx-worker-ticket) on a fresh database: bookings made from holds taken over
 * HTTP and confirmed with bx_booking_confirm, their ticket job written to the outbox the
 * way the payment pool writes it. Covers one ticket per seat and per GA unit, exactly
 * once under a replayed job, the message and partner event, who may read tickets (owner
 * 200, others 404, 202 while issuing, 409 unpaid), the QR image decoded by zbarimg to a
 * payload that verifies with the published keys, check-in once (second scan 409 with when
 * and where, 20 concurrent scans one 200), the scanner role, forged payloads, revocation
 * on cancel and the revocation list, and bxctl ticket-verify's exit codes. Ports
 * 26700-26701. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bx_harness.h"
#include "bx_jwt.h"
#include "bx_suite.h"
#include "bx_ticket.h"
#include "bx_util.h"
#include "holds_fixture.h"

#define PT "https://boxoffice.dev/problems/"

static hf_sys_t s_sys;
static char s_x[4096], s_y[4096], s_scanner[4096], s_xid[37];
static hf_event_t s_ev;

static void s_setup(void)
{
    hf_start(&s_sys, "ticket", 26700, 1, NULL);
    hf_spawn(&s_sys, "bx-worker-ticket", NULL);
    hf_customer(&s_sys, s_x, sizeof s_x, s_xid);
    hf_customer(&s_sys, s_y, sizeof s_y, NULL);
    hf_token(&s_sys, "scanner", s_scanner, sizeof s_scanner, NULL);
    hf_event(&s_sys, 3, 10, 100, &s_ev);
}

static void s_teardown(void)
{
    hf_stop(&s_sys);
}

/* ---- helpers ---- */

/* Holds body for tok over HTTP and makes a booking of it pending payment; its id into
 * out. */
static void s_pending(const char *tok, const char *body, char out[37])
{
    char path[160];
    const char *h[] = {"Prefer: wait=10", NULL};
    snprintf(path, sizeof path, "/api/v1/events/%s/inventory/hold", s_ev.id);
    bx_httpc_resp_t r = hf_call(&s_sys, "POST", path, tok, body, h);
    HF_EXPECT(r, 201);
    char *id = hf_text(&s_sys,
                       "INSERT INTO bookings (id, user_id, event_id, org_id, hold_id, quantity, "
                       "currency, subtotal_minor, total_minor, lines, payment_due_at) "
                       "SELECT gen_random_uuid(), h.user_id, h.event_id, e.org_id, h.id, "
                       "h.quantity, h.currency, h.total_minor, h.total_minor, h.lines, "
                       "now() + interval '15 minutes' FROM holds h JOIN events e ON e.id = "
                       "h.event_id WHERE h.id = '%s' RETURNING id",
                       hf_str(r.json, "data.id"));
    ck_assert_ptr_nonnull(id);
    bx_strlcpy(out, id, 37);
    free(id);
    bx_httpc_free(&r);
}

/* A confirmed booking whose ticket job is not queued yet. */
static void s_confirmed(const char *tok, const char *body, char out[37])
{
    s_pending(tok, body, out);
    char *st = hf_text(&s_sys, "SELECT bx_booking_confirm('%s', total_minor) FROM bookings "
                               "WHERE id = '%s'", out, out);
    ck_assert_str_eq(st, "confirmed");
    free(st);
}

/* Queues the ticket job as the payment pool does (an outbox row the scheduler relays). */
static void s_queue_issue(const char *booking)
{
    free(hf_text(&s_sys,
                 "INSERT INTO outbox (service, topic, route_key, payload) VALUES ('ticket', "
                 "'booking.confirmed', '%s', '{\"op\":\"issue\",\"booking_id\":\"%s\"}')",
                 booking, booking));
}

/* Waits until every ticket job of the booking completed; returns how many there were. */
static long s_wait_jobs(const char *booking)
{
    for (int i = 0; i < 200; i++) {
        long open = hf_num(&s_sys,
                           "SELECT count(*) FROM outbox WHERE service = 'ticket' AND route_key = "
                           "'%s' AND (relayed_at IS NULL OR request_id IN (SELECT id FROM "
                           "requests WHERE status NOT IN ('succeeded', 'failed')))",
                           booking);
        if (open == 0)
            return hf_num(&s_sys, "SELECT count(*) FROM requests WHERE service = 'ticket' AND "
                                  "route_key = '%s' AND status = 'succeeded'", booking);
        usleep(50000);
    }
    ck_abort_msg("the ticket jobs of %s did not finish", booking);
    return -1;
}

/* A confirmed booking with its tickets issued. */
static void s_booked(const char *tok, const char *body, char out[37])
{
    s_confirmed(tok, body, out);
    s_queue_issue(out);
    ck_assert_int_eq(s_wait_jobs(out), 1);
}

static bx_httpc_resp_t s_get_tickets(const char *booking, const char *tok)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/bookings/%s/ticket", booking);
    return hf_call(&s_sys, "GET", path, tok, NULL, NULL);
}

/* The payload of ticket serial n of booking (caller frees). */
static char *s_payload(const char *booking, int n)
{
    return hf_text(&s_sys, "SELECT payload FROM tickets WHERE booking_id = '%s' AND serial = %d",
                   booking, n);
}

static bx_httpc_resp_t s_checkin(const char *tok, const char *payload, const char *gate)
{
    json_t *b = json_pack("{s:s, s:s, s:s}", "payload", payload, "gate", gate, "device", "dev-1");
    char *text = json_dumps(b, JSON_COMPACT);
    bx_httpc_resp_t r = hf_call(&s_sys, "POST", "/api/v1/checkins", tok, text, NULL);
    free(text);
    json_decref(b);
    return r;
}

/* ---- issuing ---- */

START_TEST(one_ticket_per_seat_exactly_once)
{
    char b[37];
    s_booked(s_x, "{\"seats\":[\"A1\",\"A2\",\"A3\"]}", b);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM tickets WHERE booking_id = '%s'", b), 3);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM tickets WHERE booking_id = '%s' AND "
                                    "seat_id IS NOT NULL AND label IN ('A1','A2','A3')", b), 3);
    /* the job again, and a second issue job: no second set, no second message */
    s_queue_issue(b);
    s_queue_issue(b);
    ck_assert_int_eq(s_wait_jobs(b), 3);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM tickets WHERE booking_id = '%s'", b), 3);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM requests WHERE service = 'ticket' AND "
                                    "route_key = '%s' AND result->>'issued' = 'false'", b), 2);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM outbox WHERE service = 'notify' AND "
                                    "topic = 'booking.confirmed' AND payload::text LIKE '%%%s%%'", b), 1);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM outbox WHERE service = 'webhook' AND "
                                    "topic = 'booking.confirmed' AND payload::text LIKE '%%%s%%'", b), 1);
    /* the message carries the codes and the total for people */
    char *msg = hf_text(&s_sys, "SELECT payload::text FROM outbox WHERE service = 'notify' AND "
                                "topic = 'booking.confirmed' AND payload::text LIKE '%%%s%%'", b);
    char *p1 = s_payload(b, 1);
    ck_assert_ptr_nonnull(strstr(msg, p1));
    ck_assert_ptr_nonnull(strstr(msg, "total_display"));
    free(p1);
    free(msg);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM bookings WHERE id = '%s' AND "
                                    "tickets_issued_at IS NOT NULL", b), 1);
}
END_TEST

START_TEST(one_ticket_per_ga_unit)
{
    char b[37];
    s_booked(s_y, hf_j("{'tier_id':'%s','quantity':4}", s_ev.standing), b);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM tickets WHERE booking_id = '%s' AND "
                                    "seat_id IS NULL", b), 4);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT max(serial) FROM tickets WHERE booking_id = '%s'", b), 4);
    char *p = s_payload(b, 4);
    bx_ticket_claims_t c;
    ck_assert_int_eq(bx_ticket_parse(p, &c), BX_OK);
    ck_assert_str_eq(c.seat, "GA");
    ck_assert_int_eq(c.serial, 4);
    ck_assert_str_eq(c.event_id, s_ev.id);
    ck_assert_int_lt(strlen(p), 200);
    free(p);
}
END_TEST

START_TEST(unconfirmed_booking_gets_no_tickets)
{
    char b[37];
    s_pending(s_x, "{\"seats\":[\"B1\"]}", b);
    s_queue_issue(b);
    ck_assert_int_eq(s_wait_jobs(b), 0); /* failed: 409 */
    ck_assert_int_eq(hf_num(&s_sys, "SELECT http_status FROM requests WHERE service = 'ticket' "
                                    "AND route_key = '%s'", b), 409);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM tickets WHERE booking_id = '%s'", b), 0);
    bx_httpc_resp_t r = s_get_tickets(b, s_x);
    HF_PROBLEM(r, 409, "conflict");
    bx_httpc_free(&r);
}
END_TEST

/* ---- reading tickets ---- */

START_TEST(owner_reads_tickets_others_do_not)
{
    char b[37], c[37];
    s_booked(s_x, "{\"seats\":[\"B5\",\"B6\"]}", b);
    bx_httpc_resp_t r = s_get_tickets(b, s_x);
    HF_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(hf_get(r.json, "data.tickets")), 2);
    ck_assert_str_eq(hf_str(r.json, "data.tickets.0.seat.label"), "B5");
    ck_assert_str_eq(hf_str(r.json, "data.tickets.0.status"), "valid");
    ck_assert_ptr_nonnull(hf_str(r.json, "data.tickets.1.payload"));
    ck_assert_ptr_nonnull(hf_str(r.json, "data.tickets.1.links.qr_svg"));
    bx_httpc_free(&r);
    r = s_get_tickets(b, s_y);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = s_get_tickets(b, s_sys.other_partner);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    r = s_get_tickets(b, s_sys.partner); /* the event's organization */
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    r = s_get_tickets(b, NULL);
    ck_assert_int_eq(r.status, 401);
    bx_httpc_free(&r);
    /* confirmed, tickets not issued yet: 202 with Retry-After */
    s_confirmed(s_x, "{\"seats\":[\"B8\"]}", c);
    r = s_get_tickets(c, s_x);
    HF_EXPECT(r, 202);
    char ra[16];
    ck_assert(bx_httpc_header(&r, "Retry-After", ra, sizeof ra));
    bx_httpc_free(&r);
}
END_TEST

/* zbarimg's reading of a PNG (caller frees). */
static char *s_zbar(const char *png, size_t len)
{
    char path[] = "/tmp/it-ticket-qr-XXXXXX", cmd[96], *out = calloc(1, 1024);
    int fd = mkstemp(path);
    ck_assert(fd >= 0 && write(fd, png, len) == (ssize_t)len);
    close(fd);
    snprintf(cmd, sizeof cmd, "zbarimg --raw -q %s", path);
    FILE *f = popen(cmd, "r");
    size_t n = f ? fread(out, 1, 1023, f) : 0;
    if (f)
        pclose(f);
    unlink(path);
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    return out;
}

START_TEST(qr_decodes_to_a_payload_the_published_keys_verify)
{
    char b[37], path[128], etag[96];
    s_booked(s_x, "{\"seats\":[\"C1\"]}", b);
    char *id = hf_text(&s_sys, "SELECT id FROM tickets WHERE booking_id = '%s'", b);
    snprintf(path, sizeof path, "/api/v1/tickets/%s/qr.png", id);
    bx_httpc_resp_t r = hf_call(&s_sys, "GET", path, s_x, NULL, NULL);
    HF_EXPECT(r, 200);
    char ct[64];
    ck_assert(bx_httpc_header(&r, "Content-Type", ct, sizeof ct) && !strcmp(ct, "image/png"));
    ck_assert(bx_httpc_header(&r, "ETag", etag, sizeof etag));
    char *code = s_zbar(r.body, r.len);
    bx_httpc_free(&r);
    char *stored = s_payload(b, 1);
    ck_assert_str_eq(code, stored);
    /* verified offline with nothing but the published key set */
    r = hf_call(&s_sys, "GET", "/api/v1/tickets/keys", NULL, NULL, NULL);
    HF_EXPECT(r, 200);
    ck_assert_str_eq(hf_str(r.json, "keys.0.kty"), "OKP");
    ck_assert_str_eq(hf_str(r.json, "keys.0.crv"), "Ed25519");
    bx_ticket_claims_t c;
    ck_assert_int_eq(bx_ticket_verify_jwks(r.json, code, &c), BX_OK);
    ck_assert_str_eq(c.ticket_id, id);
    ck_assert_str_eq(c.seat, "C1");
    bx_httpc_free(&r);
    /* unchanged image: 304; the SVG; someone else: 404 */
    char inm[128];
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *h[] = {inm, NULL};
    r = hf_call(&s_sys, "GET", path, s_x, NULL, h);
    ck_assert_int_eq(r.status, 304);
    bx_httpc_free(&r);
    snprintf(path, sizeof path, "/api/v1/tickets/%s/qr.svg", id);
    r = hf_call(&s_sys, "GET", path, s_x, NULL, NULL);
    HF_EXPECT(r, 200);
    ck_assert(bx_httpc_header(&r, "Content-Type", ct, sizeof ct) && !strcmp(ct, "image/svg+xml"));
    ck_assert_ptr_nonnull(strstr(r.body, "<svg"));
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", path, s_y, NULL, NULL);
    HF_PROBLEM(r, 404, "not-found");
    bx_httpc_free(&r);
    free(code);
    free(stored);
    free(id);
}
END_TEST

/* ---- check-ins ---- */

START_TEST(checkin_admits_once_and_says_when_and_where)
{
    char b[37];
    s_booked(s_x, "{\"seats\":[\"C3\"]}", b);
    char *p = s_payload(b, 1);
    bx_httpc_resp_t r = s_checkin(s_x, p, "north"); /* a customer cannot scan */
    HF_PROBLEM(r, 403, "forbidden");
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM checkins"), 0);
    r = s_checkin(s_scanner, p, "north");
    HF_EXPECT(r, 200);
    ck_assert_str_eq(hf_str(r.json, "result"), "admitted");
    ck_assert_str_eq(hf_str(r.json, "seat"), "C3");
    char first[40];
    bx_strlcpy(first, hf_str(r.json, "scanned_at"), sizeof first);
    bx_httpc_free(&r);
    r = s_checkin(s_scanner, p, "south");
    HF_PROBLEM(r, 409, "ticket-already-used");
    ck_assert_str_eq(hf_str(r.json, "scanned_at"), first);
    ck_assert_str_eq(hf_str(r.json, "gate"), "north");
    ck_assert_str_eq(hf_str(r.json, "device"), "dev-1");
    bx_httpc_free(&r);
    r = s_checkin(s_sys.partner, p, "east"); /* the organization's partner may scan too */
    HF_PROBLEM(r, 409, "ticket-already-used");
    bx_httpc_free(&r);
    r = s_checkin(s_sys.other_partner, p, "east");
    HF_PROBLEM(r, 403, "forbidden");
    bx_httpc_free(&r);
    free(p);
}
END_TEST

START_TEST(forged_payloads_are_refused)
{
    char b[37];
    s_booked(s_x, "{\"seats\":[\"C5\"]}", b);
    char *p = s_payload(b, 1);
    bx_ticket_claims_t c;
    ck_assert_int_eq(bx_ticket_parse(p, &c), BX_OK);
    /* same claims signed by a key the platform never had, under the real kid */
    bx_ticket_key_t *rogue = bx_ticket_key_generate();
    char *forged = bx_ticket_sign(rogue, &c);
    memcpy(forged + 4, c.kid, BX_TICKET_KID_LEN);
    bx_httpc_resp_t r = s_checkin(s_scanner, forged, "g");
    HF_PROBLEM(r, 422, "ticket-invalid");
    bx_httpc_free(&r);
    free(forged);
    /* a rogue key's own kid, a tampered body, garbage */
    forged = bx_ticket_sign(rogue, &c);
    r = s_checkin(s_scanner, forged, "g");
    HF_PROBLEM(r, 422, "ticket-invalid");
    bx_httpc_free(&r);
    char *t = strdup(p);
    char *body = strchr(t + 4, '.') + 1;
    body[2] = body[2] == 'A' ? 'B' : 'A';
    r = s_checkin(s_scanner, t, "g");
    HF_PROBLEM(r, 422, "ticket-invalid");
    bx_httpc_free(&r);
    r = s_checkin(s_scanner, "not a ticket", "g");
    HF_PROBLEM(r, 422, "ticket-invalid");
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "POST", "/api/v1/checkins", s_scanner, "{\"gate\":\"g\"}", NULL);
    ck_assert_int_eq(r.status, 400);
    bx_httpc_free(&r);
    ck_assert_int_eq(hf_num(&s_sys, "SELECT count(*) FROM checkins WHERE ticket_id = '%s'",
                            c.ticket_id), 0);
    free(t);
    free(forged);
    free(p);
    bx_ticket_key_destroy(&rogue);
}
END_TEST

typedef struct {
    const char *payload; /* ticket scanned */
    long status;         /* answer */
} s_scan_t;

static void *s_scan(void *arg)
{
    s_scan_t *s = arg;
    bx_httpc_resp_t r = s_checkin(s_scanner, s->payload, "rush");
    s->status = r.status;
    bx_httpc_free(&r);
    return NULL;
}

START_TEST(concurrent_scans_admit_exactly_once)
{
    enum { N = 20 };
    char b[37];
    s_booked(s_y, "{\"seats\":[\"C7\"]}", b);
    char *p = s_payload(b, 1);
    pthread_t th[N];
    s_scan_t scans[N];
    for (int i = 0; i < N; i++) {
        scans[i] = (s_scan_t){.payload = p};
        ck_assert_int_eq(pthread_create(&th[i], NULL, s_scan, &scans[i]), 0);
    }
    int ok = 0, used = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ok += scans[i].status == 200;
        used += scans[i].status == 409;
    }
    ck_assert_int_eq(ok, 1);
    ck_assert_int_eq(used, N - 1);
    free(p);
}
END_TEST

/* ---- revocation ---- */

START_TEST(cancelled_tickets_are_revoked_and_listed)
{
    char b[37], path[160], gen[48], z[4096];
    hf_customer(&s_sys, z, sizeof z, NULL);
    s_booked(z, "{\"seats\":[\"A8\",\"A9\"]}", b);
    snprintf(path, sizeof path, "/api/v1/events/%s/tickets/revoked", s_ev.id);
    bx_httpc_resp_t r = hf_call(&s_sys, "GET", path, s_scanner, NULL, NULL);
    HF_EXPECT(r, 200);
    bx_strlcpy(gen, hf_str(r.json, "generated_at"), sizeof gen);
    bx_httpc_free(&r);
    char *st = hf_text(&s_sys, "SELECT bx_booking_cancel('%s', 'test')", b);
    ck_assert_str_eq(st, "cancelled");
    free(st);
    char *p = s_payload(b, 2), *id = hf_text(&s_sys, "SELECT id FROM tickets WHERE booking_id = "
                                                     "'%s' AND serial = 2", b);
    r = s_checkin(s_scanner, p, "g");
    HF_PROBLEM(r, 409, "ticket-revoked");
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", path, s_scanner, NULL, NULL);
    HF_EXPECT(r, 200);
    ck_assert_str_eq(hf_str(r.json, "event_id"), s_ev.id);
    ck_assert_ptr_nonnull(strstr(r.body, id));
    bx_httpc_free(&r);
    /* the delta since the first list holds both; since now holds none */
    char q[256];
    snprintf(q, sizeof q, "%s?since=%s", path, gen);
    r = hf_call(&s_sys, "GET", q, s_scanner, NULL, NULL);
    HF_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(hf_get(r.json, "revoked")), 2);
    bx_httpc_free(&r);
    snprintf(q, sizeof q, "%s?since=2999-01-01T00:00:00Z", path);
    r = hf_call(&s_sys, "GET", q, s_scanner, NULL, NULL);
    HF_EXPECT(r, 200);
    ck_assert_int_eq(json_array_size(hf_get(r.json, "revoked")), 0);
    bx_httpc_free(&r);
    snprintf(q, sizeof q, "%s?since=yesterday", path);
    r = hf_call(&s_sys, "GET", q, s_scanner, NULL, NULL);
    ck_assert_int_eq(r.status, 400);
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", path, z, NULL, NULL);
    HF_PROBLEM(r, 403, "forbidden");
    bx_httpc_free(&r);
    r = hf_call(&s_sys, "GET", path, s_sys.partner, NULL, NULL);
    HF_EXPECT(r, 200);
    bx_httpc_free(&r);
    /* the owner still sees the tickets, revoked; their images are gone */
    r = s_get_tickets(b, z);
    HF_EXPECT(r, 200);
    ck_assert_str_eq(hf_str(r.json, "data.tickets.0.status"), "revoked");
    bx_httpc_free(&r);
    snprintf(q, sizeof q, "/api/v1/tickets/%s/qr.png", id);
    r = hf_call(&s_sys, "GET", q, z, NULL, NULL);
    HF_PROBLEM(r, 410, "gone");
    bx_httpc_free(&r);
    free(p);
    free(id);
}
END_TEST

/* ---- bxctl ticket-verify ---- */

/* Runs bxctl ticket-verify with args (shell words, test values); returns its exit code. */
static int s_verify(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "BOXOFFICE_PG_DSN='%s' '%s' ticket-verify %s >>'%s' 2>&1",
             s_sys.dsn, bx_h_bin("bxctl"), args, s_sys.log);
    return bx_h_sh(cmd);
}

START_TEST(bxctl_ticket_verify_exit_codes)
{
    char b[37], keys[320], rev[320], args[1200];
    s_booked(s_y, "{\"seats\":[\"B10\"]}", b);
    char *p = s_payload(b, 1), *id = hf_text(&s_sys, "SELECT id FROM tickets WHERE booking_id = "
                                                     "'%s'", b);
    bx_httpc_resp_t r = hf_call(&s_sys, "GET", "/api/v1/tickets/keys", NULL, NULL, NULL);
    HF_EXPECT(r, 200);
    snprintf(keys, sizeof keys, "%s/jwks.json", s_sys.dir);
    FILE *f = fopen(keys, "w");
    ck_assert(f && fwrite(r.body, 1, r.len, f) == r.len);
    fclose(f);
    bx_httpc_free(&r);
    snprintf(args, sizeof args, "'%s' --keys '%s'", p, keys);
    ck_assert_int_eq(s_verify(args), 0);
    snprintf(args, sizeof args, "'%s' --keys '%s/api/v1/tickets/keys'", p, s_sys.base);
    ck_assert_int_eq(s_verify(args), 0);
    snprintf(args, sizeof args, "'%s'", p); /* the database's keys */
    ck_assert_int_eq(s_verify(args), 0);
    char *t = strdup(p);
    t[strlen(t) - 3] = t[strlen(t) - 3] == 'A' ? 'B' : 'A';
    snprintf(args, sizeof args, "'%s' --keys '%s'", t, keys);
    ck_assert_int_eq(s_verify(args), 3);
    snprintf(args, sizeof args, "garbage --keys '%s'", keys);
    ck_assert_int_eq(s_verify(args), 3);
    snprintf(rev, sizeof rev, "%s/revoked.json", s_sys.dir);
    f = fopen(rev, "w");
    ck_assert(f && fprintf(f, "{\"revoked\":[\"%s\"]}", id) > 0);
    fclose(f);
    snprintf(args, sizeof args, "'%s' --keys '%s' --revoked '%s'", p, keys, rev);
    ck_assert_int_eq(s_verify(args), 4);
    ck_assert_int_eq(s_verify(""), 2);
    snprintf(args, sizeof args, "'%s' --keys /nonexistent.json", p);
    ck_assert_int_eq(s_verify(args), 1);
    free(t);
    free(p);
    free(id);
}
END_TEST

/* ---- numbers (printed, and bounded so a regression fails) ---- */

static int s_cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

START_TEST(issue_and_checkin_latency)
{
    enum { B = 10, Q = 5 };
    char b[B][37], tok[4096];
    long ms[B * Q];
    for (int i = 0; i < B; i++) {
        hf_customer(&s_sys, tok, sizeof tok, NULL);
        s_confirmed(tok, hf_j("{'tier_id':'%s','quantity':%d}", s_ev.standing, Q), b[i]);
    }
    for (int i = 0; i < B; i++)
        s_queue_issue(b[i]);
    for (int i = 0; i < B; i++)
        ck_assert_int_eq(s_wait_jobs(b[i]), 1);
    /* queued (outbox row) to issued (tickets_issued_at), from the database's clock */
    long p50 = hf_num(&s_sys, "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY d) FROM "
                              "(SELECT extract(epoch FROM bk.tickets_issued_at - o.created_at) "
                              "* 1000 AS d FROM outbox o JOIN bookings bk ON bk.id::text = "
                              "o.route_key WHERE o.service = 'ticket' AND bk.quantity = %d) x", Q);
    long max = hf_num(&s_sys, "SELECT max(extract(epoch FROM bk.tickets_issued_at - o.created_at) "
                              "* 1000) FROM outbox o JOIN bookings bk ON bk.id::text = o.route_key "
                              "WHERE o.service = 'ticket' AND bk.quantity = %d", Q);
    /* check-in round trips over HTTP, one ticket after another */
    int n = 0;
    for (int i = 0; i < B; i++)
        for (int k = 1; k <= Q; k++) {
            char *p = s_payload(b[i], k);
            int64_t t0 = bx_mono_ms();
            bx_httpc_resp_t r = s_checkin(s_scanner, p, "bench");
            ms[n++] = (long)(bx_mono_ms() - t0);
            HF_EXPECT(r, 200);
            bx_httpc_free(&r);
            free(p);
        }
    qsort(ms, (size_t)n, sizeof ms[0], s_cmp_long);
    fprintf(stderr, "it_ticket: issue (outbox to issued, %d bookings of %d GA tickets): p50 %ld ms, "
                    "max %ld ms; check-in over HTTP (%d scans): p50 %ld ms, p95 %ld ms, max %ld ms\n",
            B, Q, p50, max, n, ms[n / 2], ms[n * 95 / 100], ms[n - 1]);
    ck_assert_int_lt(max, 5000);
    ck_assert_int_lt(ms[n * 95 / 100], 1000);
}
END_TEST

Suite *bx_suite(void)
{
    Suite *s = suite_create("ticket");
    TCase *tc = tcase_create("tickets");
    tcase_add_unchecked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, one_ticket_per_seat_exactly_once);
    tcase_add_test(tc, one_ticket_per_ga_unit);
    tcase_add_test(tc, unconfirmed_booking_gets_no_tickets);
    tcase_add_test(tc, owner_reads_tickets_others_do_not);
    tcase_add_test(tc, qr_decodes_to_a_payload_the_published_keys_verify);
    tcase_add_test(tc, checkin_admits_once_and_says_when_and_where);
    tcase_add_test(tc, forged_payloads_are_refused);
    tcase_add_test(tc, concurrent_scans_admit_exactly_once);
    tcase_add_test(tc, cancelled_tickets_are_revoked_and_listed);
    tcase_add_test(tc, bxctl_ticket_verify_exit_codes);
    tcase_add_test(tc, issue_and_checkin_latency);
    suite_add_tcase(s, tc);
    return s;
}
