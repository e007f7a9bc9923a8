-- The budget a billable call reserved, kept on its idempotency key. A worker that dies
-- between reserving and settling leaves the key 'started' with credits here; the next
-- attempt settles them as spent (the provider may have billed the lost call) instead
-- of leaving the reservation held for the rest of the period.
ALTER TABLE ops.idempotency_keys
    ADD COLUMN reserved_credits integer NOT NULL DEFAULT 0 CHECK (reserved_credits >= 0),
    ADD COLUMN budget_scopes text[],
    ADD COLUMN budget_period text;
