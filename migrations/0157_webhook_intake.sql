-- Webhook records as they were received, until the normalize job reads them. They keep
-- their bios whole, emails and phone numbers included, so that normalization keeps those
-- as bio sightings in Tier 2 and checks them against the suppression list, as it does for
-- an imported file. A schema of its own keeps them out of Tier 1: the webhook (sxe_api)
-- can add rows but never read them, and the worker reads a batch's row and deletes it in
-- the transaction that marks the batch normalized. Retention deletes rows left behind by
-- a batch whose normalization failed, after the Tier 2 period.

CREATE SCHEMA intake;
REVOKE ALL ON SCHEMA intake FROM PUBLIC;

CREATE TABLE intake.webhook_records (
    batch_id     uuid PRIMARY KEY REFERENCES social.webhook_batches (id) ON DELETE CASCADE,
    records      jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhook_records_received_at ON intake.webhook_records (received_at);

GRANT USAGE ON SCHEMA intake TO sxe_api, sxe_worker;
GRANT INSERT ON intake.webhook_records TO sxe_api;
GRANT SELECT, DELETE ON intake.webhook_records TO sxe_worker;

-- The batch row keeps counts only. Rows written before this migration keep their
-- redacted records here until they are normalized.
ALTER TABLE social.webhook_batches ALTER COLUMN records DROP NOT NULL;
