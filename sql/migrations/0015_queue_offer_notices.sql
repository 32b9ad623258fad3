-- 0015_queue_offer_notices: the record of which waiting-room admissions (queue.admitted)
-- and waitlist offers (waitlist.offer) were told to their customer, each exactly once: the
-- notify pool's sweep (workers/delivery/dlv_sweep.c) inserts the row and writes the
-- message in one transaction, like the reminders of 0014.

CREATE TABLE dlv_admission_notices (
    entry_id UUID PRIMARY KEY REFERENCES waitroom_entries (id),
    sent_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- An entry is offered at most one hold at a time; a lapsed offer ends the entry, so
-- (entry, hold) names one offer.
CREATE TABLE dlv_offer_notices (
    entry_id UUID NOT NULL REFERENCES waitlist_entries (id),
    hold_id  UUID NOT NULL,
    sent_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (entry_id, hold_id)
);
