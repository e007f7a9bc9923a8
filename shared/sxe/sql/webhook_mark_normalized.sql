-- The records now live in social.raw_records (redacted), contact.bio_sightings and
-- ops.quarantine, which erasure and retention reach, so the delivery keeps only its counts.
WITH received AS (
    DELETE FROM intake.webhook_records WHERE batch_id = %(id)s
)
UPDATE social.webhook_batches SET normalized_at = now(), records = NULL WHERE id = %(id)s;
