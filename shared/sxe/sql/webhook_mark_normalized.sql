-- The records now live in social.raw_records and ops.quarantine, which erasure and retention
-- reach, so the delivery keeps only its counts.
UPDATE social.webhook_batches SET normalized_at = now(), records = '[]' WHERE id = %(id)s;
