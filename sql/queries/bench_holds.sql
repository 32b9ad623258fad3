-- bench/hot-sale (bx-hot-sale): the load generator's own rows (a partner, simulated
-- customers with sessions) and its end-of-run proof that nothing was oversold. Used by the
-- benchmark tool only; the product never runs these.

-- name: bench_partner_create
-- $1 org id, $2 user id, $3 email, $4 session id.
WITH o AS (
    INSERT INTO organizations (id, name) VALUES ($1, 'Hot sale bench') RETURNING id
), u AS (
    INSERT INTO users (id, email, password_hash, role) VALUES ($2, $3, 'x', 'partner')
    RETURNING id
), m AS (
    INSERT INTO organization_members (org_id, user_id, role)
    SELECT o.id, u.id, 'owner' FROM o, u
)
INSERT INTO sessions (id, user_id, expires_at)
SELECT $4, u.id, now() + interval '1 day' FROM u

-- name: bench_customers_create
-- $1 tag for the e-mail addresses, $2 how many: customers with one session each.
WITH u AS (
    INSERT INTO users (id, email, password_hash, role)
    SELECT gen_random_uuid(), 'hot-' || $1 || '-' || g || '@bench.test', 'x', 'customer'
    FROM generate_series(1, $2::int) g
    RETURNING id
)
INSERT INTO sessions (id, user_id, expires_at)
SELECT gen_random_uuid(), u.id, now() + interval '1 day' FROM u
RETURNING user_id, id

-- name: bench_oversell
-- $1 events (uuid[] text): seats in more than one active hold, held seats no active hold
-- lists, ended holds still owning seats, GA tiers over capacity or whose held differs from
-- their active holds. The sum must be 0.
SELECT
    (SELECT count(*) FROM (SELECT x->>'seat_id' FROM holds h, jsonb_array_elements(h.seats) x
                           WHERE h.event_id = ANY ($1::uuid[]) AND h.state = 'active'
                           GROUP BY h.event_id, 1 HAVING count(*) > 1) d),
    (SELECT count(*) FROM event_seats s
     WHERE s.event_id = ANY ($1::uuid[]) AND s.state = 'held'
       AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.id = s.hold_id AND h.state = 'active')),
    (SELECT count(*) FROM event_seats s JOIN holds h ON h.id = s.hold_id
     WHERE s.event_id = ANY ($1::uuid[]) AND h.state <> 'active'),
    (SELECT count(*) FROM event_ga g
     WHERE g.event_id = ANY ($1::uuid[])
       AND (g.held + g.sold > g.capacity
            OR g.held <> (SELECT coalesce(sum(h.quantity), 0) FROM holds h
                          WHERE h.event_id = g.event_id AND h.ga_tier_id = g.tier_id
                            AND h.state = 'active')))

-- name: bench_sold
-- $1 events (uuid[] text): seats held and GA units held over those events.
SELECT (SELECT count(*) FROM event_seats WHERE event_id = ANY ($1::uuid[]) AND state = 'held'),
       (SELECT coalesce(sum(held), 0) FROM event_ga WHERE event_id = ANY ($1::uuid[]))

-- name: bench_unfinished
-- $1 events (text[]): hold requests of those events not finished yet.
SELECT count(*) FROM requests
WHERE service = 'hold' AND route_key = ANY ($1::text[]) AND status NOT IN ('succeeded', 'failed')
