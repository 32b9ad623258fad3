-- 0010_checkout: the checkout pool's shared pieces (docs/booking.md): the booking document
-- every pool answers with (frontdoor, checkout, payment, ticket), and the read indexes the
-- bookings and promo-code lists page through.

-- The booking as the API shows it (JSON:API style, like bx_hold_doc). tax_minor is what
-- was added on top; tax_included_minor what the prices already held (VAT style); both
-- are itemized in taxes. Links: the tickets (once issued), and where to pay.
CREATE FUNCTION bx_booking_doc(b bookings) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('data', jsonb_build_object(
        'id', b.id, 'type', 'booking',
        'attributes', jsonb_build_object(
            'status', b.status, 'user_id', b.user_id, 'hold_id', b.hold_id,
            'event', (SELECT jsonb_build_object('id', e.id, 'name', e.name,
                                                'starts_at', bx_utc_rfc3339(e.starts_at),
                                                'status', e.status)
                      FROM events e WHERE e.id = b.event_id),
            'quantity', b.quantity, 'currency', b.currency, 'lines', b.lines,
            'subtotal_minor', b.subtotal_minor, 'discount_minor', b.discount_minor,
            'fee_minor', b.fee_minor, 'tax_minor', b.tax_minor,
            'tax_included_minor', (SELECT coalesce(sum((t ->> 'amount_minor')::bigint), 0)
                                   FROM jsonb_array_elements(b.taxes) t
                                   WHERE (t ->> 'inclusive')::boolean),
            'total_minor', b.total_minor, 'taxes', b.taxes, 'promo_code', b.promo_code,
            'paid_minor', b.paid_minor, 'refunded_minor', b.refunded_minor,
            'payment_due_at', bx_utc_rfc3339(b.payment_due_at),
            'confirmed_at', bx_utc_rfc3339(b.confirmed_at),
            'tickets_issued_at', bx_utc_rfc3339(b.tickets_issued_at),
            'cancelled_at', bx_utc_rfc3339(b.cancelled_at),
            'cancel_reason', b.cancel_reason, 'failure_reason', b.failure_reason,
            'created_at', bx_utc_rfc3339(b.created_at)),
        'links', jsonb_build_object(
            'self', '/api/v1/bookings/' || b.id,
            'tickets', '/api/v1/bookings/' || b.id || '/ticket',
            'payments', '/api/v1/payments',
            'cancel', '/api/v1/bookings/' || b.id || '/cancel')))
$$;

-- A customer's history pages newest first with (created_at, id) as the cursor.
CREATE INDEX bookings_user_page ON bookings (user_id, created_at DESC, id DESC);
-- Partners list their organization's codes.
CREATE INDEX promo_codes_org ON promo_codes (org_id, created_at DESC, id DESC);

-- A promo code as the partner API shows it.
CREATE FUNCTION bx_promo_doc(p promo_codes) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', p.id, 'type', 'promo_code',
        'attributes', jsonb_build_object(
            'org_id', p.org_id, 'event_id', p.event_id, 'code', p.code, 'kind', p.kind,
            'value', p.value, 'currency', p.currency,
            'starts_at', bx_utc_rfc3339(p.starts_at), 'ends_at', bx_utc_rfc3339(p.ends_at),
            'max_uses', p.max_uses, 'per_user_limit', p.per_user_limit,
            'min_quantity', p.min_quantity, 'uses', p.uses, 'active', p.active,
            'created_at', bx_utc_rfc3339(p.created_at),
            'updated_at', bx_utc_rfc3339(p.updated_at)),
        'links', jsonb_build_object('self', '/api/v1/promo-codes/' || p.id))
$$;
