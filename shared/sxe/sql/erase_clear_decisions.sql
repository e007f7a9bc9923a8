-- Decisions stay as the record of what the gate did; the fingerprint (a hash of the person's name) goes.
WITH cleared AS (
    UPDATE ops.enrichment_decisions SET fingerprint = NULL
     WHERE card_id = ANY(%(card_ids)s) AND fingerprint IS NOT NULL
    RETURNING 1
)
SELECT count(*) AS removed FROM cleared;
