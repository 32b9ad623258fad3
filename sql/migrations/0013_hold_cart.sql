-- 0013_hold_cart: the hold is the cart (issue 5 point 1). Seats and GA units are added to
-- and removed from an active hold by the hold pool (ops add and remove,
-- sql/queries/holds.sql); these two functions rewrite a hold's contents and its price
-- summary in one place, so that every cart change computes lines and totals the same way.
-- Prices: each seat keeps the price it was held at (holds.seats[].price_minor), so lines
-- group seats by tier and unit price; a GA hold's lines are given by the caller (units
-- added at the tier's price of the moment, removed newest first).

-- Sets hold p_hold's seats to p_seats (a non-empty JSON array of {seat_id, label, section,
-- row, tier_id, price_minor}), ordered by label, with quantity, total and one line per
-- (tier, unit price). Returns the updated row.
CREATE FUNCTION bx_hold_set_seats(p_hold UUID, p_seats JSONB) RETURNS holds
LANGUAGE sql AS $$
    UPDATE holds h
    SET seats = (SELECT jsonb_agg(x ORDER BY x->>'label') FROM jsonb_array_elements(p_seats) x),
        quantity = jsonb_array_length(p_seats),
        total_minor = (SELECT coalesce(sum((x->>'price_minor')::bigint), 0)
                       FROM jsonb_array_elements(p_seats) x),
        lines = (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                     'tier_id', l.tier_id, 'name', t.name,
                                     'unit_price_minor', l.price, 'quantity', l.n,
                                     'subtotal_minor', l.price * l.n)
                                 ORDER BY t.name, l.price), '[]')
                 FROM (SELECT (x->>'tier_id')::uuid AS tier_id,
                              (x->>'price_minor')::bigint AS price, count(*) AS n
                       FROM jsonb_array_elements(p_seats) x GROUP BY 1, 2) l
                 JOIN ticket_tiers t ON t.id = l.tier_id)
    WHERE h.id = p_hold
    RETURNING h.*
$$;

-- Sets GA hold p_hold's lines to p_lines (a non-empty JSON array of {tier_id, name,
-- unit_price_minor, quantity, subtotal_minor}), its quantity and total to their sums.
-- Returns the updated row.
CREATE FUNCTION bx_hold_set_ga(p_hold UUID, p_lines JSONB) RETURNS holds
LANGUAGE sql AS $$
    UPDATE holds h
    SET lines = p_lines,
        quantity = (SELECT sum((x->>'quantity')::int) FROM jsonb_array_elements(p_lines) x),
        total_minor = (SELECT sum((x->>'subtotal_minor')::bigint)
                       FROM jsonb_array_elements(p_lines) x)
    WHERE h.id = p_hold
    RETURNING h.*
$$;
