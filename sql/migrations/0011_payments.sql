-- 0011_payments: the payment pool's own additions (docs/payments.md).
-- A payment whose money came in after its booking could no longer be confirmed (the
-- booking expired, was cancelled, or another payment confirmed it first) is refunded in
-- full at once and ends 'refunded': it is not the booking's successful payment, so the
-- one-success index of 0009 does not count it.
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
    CHECK (status IN ('processing', 'requires_action', 'succeeded', 'failed', 'unknown',
                      'refunded'));
