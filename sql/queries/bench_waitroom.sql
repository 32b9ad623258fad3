-- bx-hot-sale's waiting-room phase (bench/hot_sale_waitroom.c): what the gatekeeper did,
-- from the admission times PostgreSQL recorded.

-- name: bench_wr_admissions
-- Admissions of the event, the seconds between the first and the last, and the most
-- admitted within one wall-clock second.
SELECT count(*),
       coalesce(extract(epoch FROM max(admitted_at) - min(admitted_at)), 0)::float8,
       coalesce((SELECT max(n) FROM (SELECT count(*) AS n FROM waitroom_entries
                                     WHERE event_id = $1 AND admitted_at IS NOT NULL
                                     GROUP BY date_trunc('second', admitted_at)) s), 0)
FROM waitroom_entries WHERE event_id = $1 AND admitted_at IS NOT NULL
