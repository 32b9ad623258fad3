-- 0002_pipeline: what the worker runtime and the scheduler add to durable requests and
-- the outbox (lineage of follow-up jobs), and the echo pool's effect table.

-- A request created from an outbox row keeps its topic and the request that wrote it.
ALTER TABLE requests ADD COLUMN topic VARCHAR(64);
ALTER TABLE requests ADD COLUMN parent_id UUID;

-- outbox.request_id is the id of the request the row becomes: chosen when the row is
-- written (so the writer can name it in its result) and inserted by the relay with
-- ON CONFLICT DO NOTHING in the same transaction that sets relayed_at.
ALTER TABLE outbox ADD COLUMN parent_id UUID;
CREATE UNIQUE INDEX outbox_request_id ON outbox (request_id) WHERE request_id IS NOT NULL;

-- One row per echo job, inserted without ON CONFLICT: a second effect for the same
-- request would fail, and tests count rows to prove exactly-once effects.
CREATE TABLE echo_effects (
    request_id UUID PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
