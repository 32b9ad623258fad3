/* it_delivery_booking: what the delivery engine sends from booking data, over real
 * processes (broker, scheduler, hold worker, frontdoor, the notify and webhook pools) and
 * a real SMTP server (aiosmtpd, tests/delivery/smtp_sink.py). Bookings, holds and tickets
 * are rows inserted in SQL (the booking pools are other suites'), shaped as 0009 says.
 * Covered: the 24 h reminder (once, not for an event 30 h away, not again after the notify
 * pool restarts), hold.expiring (once, not for a short-lived hold), a partner's time change
 * mailing every holder once (read back from the SMTP server) and nobody else, a cancellation
 * reaching the holders, a booking.confirmed mail whose inline QR images zbarimg decodes to
 * the ticket codes, inventory.low / event.sold_out / queue.opened once per event, and a
 * fan-out over 2,500 holders paged into several jobs that reaches every one. Ports
 * 26900-26999. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bx_dlv.h"
#include "bx_harness.h"
#include "bx_pg.h"
#include "bx_util.h"
#include "holds_fixture.h"

#define HTTP_PORT 26900 /* broker: 26901 */
#define SMTP_PORT 26903
#define PY        "/usr/bin/python3"

static hf_sys_t s_sys;
static char s_maildir[300];
static pid_t s_smtp;
static int s_notify; /* slot of the notify pool in s_sys.extra */

static char *s_sh_out(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    size_t cap = 1 << 20, n = 0;
    char *buf = calloc(1, cap);
    while (p && n + 1 < cap) {
        size_t k = fread(buf + n, 1, cap - n - 1, p);
        if (!k)
            break;
        n += k;
    }
    if (p)
        pclose(p);
    return buf;
}

static void s_setup(void)
{
    static const char *const env[] = {"BOXOFFICE_SMTP_URL=smtp://127.0.0.1:26903",
                                      "BOXOFFICE_TWILIO_BASE_URL=http://127.0.0.1:26904",
                                      "BOXOFFICE_VONAGE_BASE_URL=http://127.0.0.1:26904",
                                      "BOXOFFICE_PUBLIC_BASE_URL=http://127.0.0.1:26900",
                                      "BOXOFFICE_DELIVERY_SWEEP_MS=300",
                                      "BOXOFFICE_HOLD_EXPIRING_NOTICE_S=60",
                                      "BOXOFFICE_HOLDER_BATCH=1000",
                                      "BOXOFFICE_DELIVERY_POLL_MS=200",
                                      "BOXOFFICE_DELIVERY_BATCH=64",
                                      "BOXOFFICE_DELIVERY_LEASE_S=30",
                                      "BOXOFFICE_DELIVERY_TIMEOUT_MS=5000",
                                      NULL};
    hf_start(&s_sys, "dlvbook", HTTP_PORT, 1, env);
    char script[512], port[16];
    snprintf(s_maildir, sizeof s_maildir, "%s/mail", s_sys.dir);
    snprintf(script, sizeof script, "%s/tests/delivery/smtp_sink.py", getenv("BX_SOURCE_DIR"));
    snprintf(port, sizeof port, "%d", SMTP_PORT);
    const char *argv[] = {PY, script, "127.0.0.1", port, s_maildir, NULL};
    s_smtp = bx_h_spawn(PY, argv, NULL, s_sys.log);
    ck_assert_int_eq(bx_h_wait_port(SMTP_PORT, 10000), 0);
    s_notify = hf_spawn(&s_sys, "bx-worker-notify", NULL);
    hf_spawn(&s_sys, "bx-worker-webhook", NULL);
}

static void s_teardown(void)
{
    hf_stop(&s_sys);
    if (s_smtp > 0)
        bx_h_stop(s_smtp, SIGTERM, 5000);
}

/* Polls the SQL number until it equals want (up to seconds); returns the last value. */
static long s_wait_num(long want, int seconds, const char *sql)
{
    long v = -2;
    for (int i = 0; i < seconds * 5; i++) {
        if ((v = hf_num(&s_sys, "%s", sql)) == want)
            return v;
        usleep(200 * 1000);
    }
    return v;
}

/* Mails the SMTP server accepted for recipients matching pattern (grep on envelopes). */
static long s_mails(const char *pattern)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd %s && grep -l -- '%s' *.json 2>/dev/null | wc -l", s_maildir,
             pattern);
    char *out = s_sh_out(cmd);
    long n = strtol(out, NULL, 10);
    free(out);
    return n;
}

static long s_wait_mails(const char *pattern, long want, int seconds)
{
    long n = -1;
    for (int i = 0; i < seconds * 5 && (n = s_mails(pattern)) != want; i++)
        usleep(200 * 1000);
    return n;
}

/* The newest mail to rcpt, through cmd_tool (mail_inspect.py or mail_qr.py): its output. */
static char *s_mail_tool(const char *rcpt, const char *tool)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd %s && for f in $(grep -l '%s' *.json 2>/dev/null | sort -r | head -1); do "
             "%s %s/tests/delivery/%s ${f%%.json}.eml; done",
             s_maildir, rcpt, PY, getenv("BX_SOURCE_DIR"), tool);
    return s_sh_out(cmd);
}

/* A customer with a unique address <prefix>-<id>@<domain>; id and email out. */
static void s_user(const char *prefix, const char *domain, char uid[37], char email[128])
{
    bx_uuid_v7(uid);
    snprintf(email, 128, "%s-%s@%s", prefix, uid, domain);
    free(hf_text(&s_sys,
                 "INSERT INTO users (id, email, password_hash, role, first_name, locale) "
                 "VALUES ('%s', '%s', 'x', 'customer', 'Tess', 'en')",
                 uid, email));
}

/* A booking of event ev (GA tier tier) by user in status, confirmed `ago` ago (an
 * interval; NULL: not confirmed). Its id into id (37 bytes, may be NULL). */
static void s_booking(const char *ev, const char *tier, const char *user, const char *status,
                      const char *ago, char *id)
{
    char *b = hf_text(
        &s_sys,
        "WITH h AS (INSERT INTO holds (id, event_id, user_id, kind, state, ga_tier_id, quantity, "
        "currency, total_minor, lines, expires_at, ended_at, created_at) "
        "SELECT gen_random_uuid(), e.id, '%s', 'ga', 'converted', '%s', 1, e.currency, 2500, "
        "'[]', now(), now(), now() - interval '3 days' FROM events e WHERE e.id = '%s' "
        "RETURNING id, event_id, currency) "
        "INSERT INTO bookings (id, user_id, event_id, org_id, hold_id, status, quantity, "
        "currency, subtotal_minor, total_minor, lines, payment_due_at, confirmed_at, "
        "cancelled_at, paid_minor) "
        "SELECT gen_random_uuid(), '%s', h.event_id, e.org_id, h.id, '%s', 1, h.currency, 2500, "
        "2500, '[]', now(), %s%s%s, %s, 2500 FROM h JOIN events e ON e.id = h.event_id "
        "RETURNING id",
        user, tier, ev, user, status, ago ? "now() - interval '" : "NULL", ago ? ago : "",
        ago ? "'" : "", !strcmp(status, "cancelled") ? "now() - interval '1 day'" : "NULL");
    ck_assert_ptr_nonnull(b);
    if (id)
        bx_strlcpy(id, b, 37);
    free(b);
}

/* Moves event ev to start in `in` (an interval) from now, two hours long. */
static void s_retime(const char *ev, const char *in)
{
    free(hf_text(&s_sys,
                 "UPDATE events SET starts_at = now() + interval '%s', "
                 "ends_at = now() + interval '%s' + interval '2 hours' WHERE id = '%s'",
                 in, in, ev));
}

START_TEST(reminder_goes_once_23h30_before_not_30h_before_nor_twice_after_a_restart)
{
    hf_event_t near, far;
    char u1[37], u2[37], e1[128], e2[128], b1[37], sql[512];
    hf_event(&s_sys, 1, 2, 10, &near);
    hf_event(&s_sys, 1, 2, 10, &far);
    s_retime(near.id, "23 hours 30 minutes");
    s_retime(far.id, "30 hours");
    s_user("remind", "t.test", u1, e1);
    s_user("remindfar", "t.test", u2, e2);
    s_booking(near.id, near.standing, u1, "confirmed", "2 days", b1);
    s_booking(far.id, far.standing, u2, "confirmed", "2 days", NULL);
    ck_assert_int_eq(s_wait_mails(e1, 1, 20), 1);
    char *out = s_mail_tool(e1, "mail_inspect.py");
    ck_assert_msg(strstr(out, "Tomorrow:"), "reminder subject: %s", out);
    free(out);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM deliveries WHERE message_type = 'event.reminder' AND "
             "user_id = '%s' AND channel = 'email' AND status = 'succeeded' AND "
             "payload->'data'->>'booking_id' = '%s' AND payload->'data'->>'venue_name' <> ''",
             u1, b1);
    ck_assert_int_eq(s_wait_num(1, 10, sql), 1);
    /* the notify pool restarts: its sweeps run again and find nothing new */
    bx_h_stop(s_sys.extra[s_notify], SIGTERM, 10000);
    hf_respawn(&s_sys, s_notify);
    sleep(3);
    ck_assert_int_eq(hf_num(&s_sys, "%s", sql), 1);
    ck_assert_int_eq(s_mails(e1), 1);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM deliveries WHERE message_type = "
                            "'event.reminder' AND user_id = '%s'",
                            u2),
                     0);
    ck_assert_int_eq(s_mails(e2), 0);
}
END_TEST

START_TEST(hold_expiring_goes_once_and_not_for_a_short_hold)
{
    hf_event_t ev;
    char u1[37], u2[37], e1[128], e2[128];
    hf_event(&s_sys, 1, 2, 10, &ev);
    s_user("holdlong", "t.test", u1, e1);
    s_user("holdshort", "t.test", u2, e2);
    /* real GA holds (held counted, so the hold worker's expiry releases them cleanly):
     * one of ten minutes with 45 s left, one of 90 s (shorter than twice the 60 s notice) */
    free(hf_text(&s_sys,
                 "WITH g AS (UPDATE event_ga SET held = held + 2 WHERE event_id = '%s' AND "
                 "tier_id = '%s' RETURNING 1) "
                 "INSERT INTO holds (id, event_id, user_id, kind, ga_tier_id, quantity, currency, "
                 "total_minor, lines, expires_at, created_at) "
                 "SELECT gen_random_uuid(), '%s', u, 'ga', '%s', 1, 'EUR', 2500, '[]', "
                 "now() + interval '45 seconds', now() - c FROM g, (VALUES ('%s'::uuid, "
                 "interval '9 minutes 15 seconds'), ('%s'::uuid, interval '45 seconds')) v (u, c)",
                 ev.id, ev.standing, ev.id, ev.standing, u1, u2));
    ck_assert_int_eq(s_wait_mails(e1, 1, 20), 1);
    char *out = s_mail_tool(e1, "mail_inspect.py");
    ck_assert_msg(strstr(out, "are held until"), "hold.expiring mail: %s", out);
    free(out);
    sleep(2); /* several sweeps later: still one, and none for the short hold */
    ck_assert_int_eq(s_mails(e1), 1);
    ck_assert_int_eq(s_mails(e2), 0);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM deliveries WHERE message_type = 'hold.expiring' "
                            "AND user_id IN ('%s', '%s')",
                            u1, u2),
                     1);
}
END_TEST

START_TEST(admitted_and_waitlist_offer_each_told_once)
{
    hf_event_t ev;
    char u1[37], u2[37], u3[37], e1[128], e2[128], e3[128];
    hf_event(&s_sys, 1, 2, 10, &ev);
    s_user("admitted", "t.test", u1, e1);
    s_user("offered", "t.test", u2, e2);
    s_user("queued", "t.test", u3, e3);
    /* the gatekeeper admitted u1 (u3 still queues); the waitlist offered u2 a hold */
    free(hf_text(&s_sys,
                 "INSERT INTO waitroom_entries (id, event_id, user_id, prequeue, lottery, state, "
                 "admitted_at, admission_jti, admission_expires_at) VALUES "
                 "(gen_random_uuid(), '%s', '%s', false, 1, 'admitted', now(), gen_random_uuid(), "
                 "now() + interval '10 minutes'), "
                 "(gen_random_uuid(), '%s', '%s', false, 2, 'queued', NULL, NULL, NULL)",
                 ev.id, u1, ev.id, u3));
    free(hf_text(&s_sys,
                 "INSERT INTO waitlist_entries (id, event_id, tier_id, user_id, quantity, state, "
                 "offer_hold_id, offered_quantity, offered_at, offer_expires_at) VALUES "
                 "(gen_random_uuid(), '%s', '%s', '%s', 2, 'offered', gen_random_uuid(), 2, now(), "
                 "now() + interval '10 minutes')",
                 ev.id, ev.standing, u2));
    ck_assert_int_eq(s_wait_mails(e1, 1, 20), 1);
    ck_assert_int_eq(s_wait_mails(e2, 1, 20), 1);
    char *out = s_mail_tool(e1, "mail_inspect.py");
    ck_assert_msg(strstr(out, "your turn"), "queue.admitted mail: %s", out);
    free(out);
    out = s_mail_tool(e2, "mail_inspect.py");
    ck_assert_msg(strstr(out, "Tickets available"), "waitlist.offer mail: %s", out);
    free(out);
    sleep(2); /* several sweeps later: still one each, nothing for the one still queued */
    ck_assert_int_eq(s_mails(e1), 1);
    ck_assert_int_eq(s_mails(e2), 1);
    ck_assert_int_eq(s_mails(e3), 0);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM deliveries WHERE message_type IN "
                            "('queue.admitted', 'waitlist.offer') AND channel = 'email' AND "
                            "user_id IN ('%s', '%s', '%s')",
                            u1, u2, u3),
                     2);
}
END_TEST

START_TEST(partner_time_change_mails_every_holder_once_and_nobody_else)
{
    hf_event_t ev;
    char h1[37], h2[37], none[37], gone[37], eh1[128], eh2[128], enone[128], egone[128];
    hf_event(&s_sys, 1, 2, 10, &ev);
    s_retime(ev.id, "10 days");
    s_user("holder1", "t.test", h1, eh1);
    s_user("holder2", "t.test", h2, eh2);
    s_user("nonholder", "t.test", none, enone);
    s_user("cancelled", "t.test", gone, egone);
    s_booking(ev.id, ev.standing, h1, "confirmed", "1 hour", NULL);
    s_booking(ev.id, ev.standing, h1, "confirmed", "2 hours", NULL); /* two bookings: one mail */
    s_booking(ev.id, ev.standing, h2, "confirmed", "1 hour", NULL);
    s_booking(ev.id, ev.standing, none, "expired", NULL, NULL);
    s_booking(ev.id, ev.standing, gone, "cancelled", "3 days", NULL);
    char *starts = hf_text(&s_sys,
                           "SELECT bx_utc_rfc3339(starts_at + interval '1 hour') FROM events "
                           "WHERE id = '%s'",
                           ev.id);
    bx_httpc_resp_t r = hf_call(&s_sys, "PUT", hf_j("/api/v1/events/%s", ev.id), s_sys.partner,
                                hf_j("{'starts_at':'%s','duration_minutes':120}", starts), NULL);
    ck_assert_msg(r.status == 200, "PUT event: %ld %s", r.status, r.body);
    bx_httpc_free(&r);
    free(starts);
    ck_assert_int_eq(s_wait_mails(eh1, 1, 20), 1);
    ck_assert_int_eq(s_wait_mails(eh2, 1, 20), 1);
    char *out = s_mail_tool(eh2, "mail_inspect.py");
    ck_assert_msg(strstr(out, "Change to") && strstr(out, "instead of"), "changed mail: %s", out);
    free(out);
    sleep(1);
    ck_assert_int_eq(s_mails(eh1), 1);
    ck_assert_int_eq(s_mails(enone), 0);
    ck_assert_int_eq(s_mails(egone), 0);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM deliveries WHERE message_type = 'event.changed' "
                            "AND payload->'data'->'event'->>'id' = '%s'",
                            ev.id),
                     2);
    /* the partner cancels: the holders hear it (bookings cancelled by the refund job after
     * the cancellation still count), the others still nothing */
    r = hf_call(&s_sys, "POST", hf_j("/api/v1/events/%s/cancel", ev.id), s_sys.partner, NULL, NULL);
    ck_assert_msg(r.status == 200, "cancel event: %ld %s", r.status, r.body);
    bx_httpc_free(&r);
    ck_assert_int_eq(s_wait_mails(eh1, 2, 20), 2);
    ck_assert_int_eq(s_wait_mails(eh2, 2, 20), 2);
    out = s_mail_tool(eh1, "mail_inspect.py");
    ck_assert_msg(strstr(out, "is cancelled"), "cancelled mail: %s", out);
    free(out);
    ck_assert_int_eq(s_mails(enone), 0);
    ck_assert_int_eq(s_mails(egone), 0);
}
END_TEST

START_TEST(booking_confirmed_mail_carries_one_decodable_qr_per_ticket)
{
    hf_event_t ev;
    char u[37], e[128], b[37], codes[2][200];
    hf_event(&s_sys, 1, 2, 10, &ev);
    s_user("tickets", "t.test", u, e);
    s_booking(ev.id, ev.standing, u, "confirmed", "1 minute", b);
    /* two tickets as the ticket pool stores them: payload is the signed string of the QR */
    for (int i = 0; i < 2; i++) {
        char tid[37];
        bx_uuid_v7(tid);
        snprintf(codes[i], sizeof codes[i], "BX1.%s.%d.eyJldiI6IiVzIn0.k1.c2lnbmF0dXJl%c", tid,
                 i + 1, 'a' + i);
        free(hf_text(&s_sys,
                     "INSERT INTO tickets (id, booking_id, event_id, user_id, tier_id, label, "
                     "price_minor, serial, kid, payload) VALUES ('%s', '%s', '%s', '%s', '%s', "
                     "'Standing #%d', 2500, %d, 'k1', '%s')",
                     tid, b, ev.id, u, ev.standing, i + 1, i + 1, codes[i]));
    }
    /* what the ticket pool calls, in its transaction, with the rows it reads back */
    bx_pg_t *pg = bx_pg_new(s_sys.dsn, 1);
    ck_assert_ptr_nonnull(pg);
    char *tickets = hf_text(&s_sys,
                            "SELECT json_agg(json_build_object('id', id, 'label', label, 'code', "
                            "payload) ORDER BY serial) FROM tickets WHERE booking_id = '%s'",
                            b);
    char *event = hf_text(&s_sys,
                          "SELECT json_build_object('id', id, 'name', name, 'starts_at', "
                          "bx_utc_rfc3339(starts_at)) FROM events WHERE id = '%s'",
                          ev.id);
    json_t *data =
        json_pack("{s:s, s:o, s:s, s:o}", "booking_id", b, "event", json_loads(event, 0, NULL),
                  "total_display", "€25.00", "tickets", json_loads(tickets, 0, NULL));
    char key[64];
    snprintf(key, sizeof key, "booking:%s", b);
    ck_assert_int_eq(bx_pg_begin(pg), BX_OK);
    ck_assert_int_eq(bx_dlv_notify_user(pg, "booking.confirmed", u, data, key, NULL, NULL), BX_OK);
    ck_assert_int_eq(bx_pg_commit(pg), BX_OK);
    json_decref(data);
    free(tickets);
    free(event);
    bx_pg_destroy(&pg);
    ck_assert_int_eq(s_wait_mails(e, 1, 20), 1);
    char *out = s_mail_tool(e, "mail_qr.py");
    json_t *qr = json_loads(out, 0, NULL);
    ck_assert_msg(qr, "mail_qr: %s", out);
    free(out);
    ck_assert(json_is_true(json_object_get(qr, "related")));
    json_t *images = json_object_get(qr, "images");
    ck_assert_int_eq(json_array_size(images), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *img = json_array_get(images, i);
        ck_assert(json_is_true(json_object_get(img, "referenced")));
        ck_assert_str_eq(json_string_value(json_object_get(img, "text")), codes[i]);
    }
    json_decref(qr);
}
END_TEST

START_TEST(inventory_low_sold_out_and_queue_opened_reach_the_partner_once_per_event)
{
    hf_event_t ev;
    char sql[512];
    hf_event(&s_sys, 1, 10, 90, &ev); /* 10 seats + 90 GA = 100 */
    free(hf_text(&s_sys, "UPDATE event_ga SET sold = 89 WHERE event_id = '%s'", ev.id));
    free(hf_text(&s_sys, "UPDATE event_seats SET state = 'sold' WHERE event_id = '%s'", ev.id));
    /* 1 of 100 left: under 10 % */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM outbox WHERE service = 'webhook' AND topic = 'inventory.low' "
             "AND payload->'data'->>'event_id' = '%s'",
             ev.id);
    ck_assert_int_eq(s_wait_num(1, 20, sql), 1);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT (payload->'data'->>'remaining')::int FROM outbox WHERE topic "
                            "= 'inventory.low' AND payload->'data'->>'event_id' = '%s'",
                            ev.id),
                     1);
    free(hf_text(&s_sys, "UPDATE event_ga SET sold = 90 WHERE event_id = '%s'", ev.id));
    char sold[512];
    snprintf(sold, sizeof sold,
             "SELECT count(*) FROM outbox WHERE service = 'webhook' AND topic = 'event.sold_out' "
             "AND payload->'data'->>'event_id' = '%s'",
             ev.id);
    ck_assert_int_eq(s_wait_num(1, 20, sold), 1);
    /* back and forth: still once per mark */
    free(hf_text(&s_sys, "UPDATE event_ga SET sold = 50 WHERE event_id = '%s'", ev.id));
    sleep(1);
    free(hf_text(&s_sys, "UPDATE event_ga SET sold = 90 WHERE event_id = '%s'", ev.id));
    sleep(2);
    ck_assert_int_eq(hf_num(&s_sys, "%s", sql), 1);
    ck_assert_int_eq(hf_num(&s_sys, "%s", sold), 1);
    /* its waiting room opens a minute ago: queue.opened once; a room opening later: not yet */
    hf_event_t later;
    hf_event(&s_sys, 1, 2, 10, &later);
    free(hf_text(&s_sys,
                 "INSERT INTO waitroom_config (event_id, prequeue_opens_at, sale_starts_at, "
                 "admit_per_minute, max_active_shoppers, token_ttl_s, seed, seed_sha256) "
                 "SELECT id, now() + o, now() + interval '1 hour', 100, 100, 600, repeat('a', 64), "
                 "repeat('b', 64) FROM (VALUES ('%s'::uuid, interval '-1 minute'), ('%s'::uuid, "
                 "interval '30 minutes')) v (id, o)",
                 ev.id, later.id));
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM outbox WHERE service = 'webhook' AND topic = 'queue.opened' "
             "AND payload->'data'->>'event_id' = '%s'",
             ev.id);
    ck_assert_int_eq(s_wait_num(1, 20, sql), 1);
    sleep(1);
    ck_assert_int_eq(hf_num(&s_sys, "%s", sql), 1);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM outbox WHERE topic = 'queue.opened' AND "
                            "payload->'data'->>'event_id' = '%s'",
                            later.id),
                     0);
}
END_TEST

START_TEST(fanout_over_2500_holders_is_paged_into_jobs_and_reaches_everyone)
{
    hf_event_t ev;
    char sql[512];
    hf_event(&s_sys, 1, 2, 10, &ev);
    s_retime(ev.id, "20 days");
    /* 2,500 holders, each with a converted hold and a confirmed booking */
    free(hf_text(
        &s_sys,
        "WITH u AS (INSERT INTO users (id, email, password_hash, role, first_name, locale) "
        "SELECT gen_random_uuid(), 'fan' || i || '@fan.test', 'x', 'customer', 'Fan', 'en' "
        "FROM generate_series(1, 2500) i RETURNING id), "
        "h AS (INSERT INTO holds (id, event_id, user_id, kind, state, ga_tier_id, quantity, "
        "currency, total_minor, lines, expires_at, ended_at) SELECT gen_random_uuid(), '%s', "
        "u.id, 'ga', 'converted', '%s', 1, 'EUR', 2500, '[]', now(), now() FROM u "
        "RETURNING id, user_id) "
        "INSERT INTO bookings (id, user_id, event_id, org_id, hold_id, status, quantity, "
        "currency, subtotal_minor, total_minor, lines, payment_due_at, confirmed_at, paid_minor) "
        "SELECT gen_random_uuid(), h.user_id, '%s', '%s', h.id, 'confirmed', 1, 'EUR', 2500, "
        "2500, '[]', now(), now() - interval '1 day', 2500 FROM h",
        ev.id, ev.standing, ev.id, s_sys.org));
    int64_t t0 = bx_now_ms();
    s_retime(ev.id, "21 days"); /* the partner moves it a day later */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM deliveries WHERE message_type = 'event.changed' AND status = "
             "'succeeded' AND payload->'data'->'event'->>'id' = '%s'",
             ev.id);
    ck_assert_int_eq(s_wait_num(2500, 120, sql), 2500);
    ck_assert_int_eq(s_wait_mails("@fan.test", 2500, 60), 2500);
    int64_t t1 = bx_now_ms();
    /* three jobs of at most 1,000 users, each exactly once */
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(*) FROM requests WHERE service = 'notify' AND topic = "
                            "'event.holders' AND status = 'succeeded' AND "
                            "result->'data'->'attributes'->>'event_id' = '%s'",
                            ev.id),
                     3);
    ck_assert_int_eq(hf_num(&s_sys,
                            "SELECT count(DISTINCT user_id) FROM deliveries WHERE message_type = "
                            "'event.changed' AND payload->'data'->'event'->>'id' = '%s'",
                            ev.id),
                     2500);
    fprintf(stderr, "it_delivery_booking: 2500 holders mailed in %.1f s\n", (t1 - t0) / 1000.0);
}
END_TEST

/* Its own main: the tests restart pools, so they run in this process (CK_NOFORK), where the
 * fixture keeps the new pids and stops them at the end. */
int main(void)
{
    Suite *s = suite_create("it_delivery_booking");
    TCase *tc = tcase_create("delivery_booking");
    tcase_set_timeout(tc, 500);
    tcase_add_unchecked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, reminder_goes_once_23h30_before_not_30h_before_nor_twice_after_a_restart);
    tcase_add_test(tc, hold_expiring_goes_once_and_not_for_a_short_hold);
    tcase_add_test(tc, admitted_and_waitlist_offer_each_told_once);
    tcase_add_test(tc, partner_time_change_mails_every_holder_once_and_nobody_else);
    tcase_add_test(tc, booking_confirmed_mail_carries_one_decodable_qr_per_ticket);
    tcase_add_test(tc, inventory_low_sold_out_and_queue_opened_reach_the_partner_once_per_event);
    tcase_add_test(tc, fanout_over_2500_holders_is_paged_into_jobs_and_reaches_everyone);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
