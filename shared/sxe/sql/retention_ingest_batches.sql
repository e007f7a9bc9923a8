-- Tier 1: batches started before the cutoff that no raw record or quarantined record refers to any more.
WITH doomed AS (
    SELECT batch.id FROM social.ingest_batches AS batch
     WHERE batch.started_at < %(cutoff)s
       AND NOT EXISTS (SELECT 1 FROM social.raw_records AS raw WHERE raw.batch_id = batch.id)
       AND NOT EXISTS (SELECT 1 FROM ops.quarantine AS held WHERE held.batch_id = batch.id)
     ORDER BY batch.id LIMIT %(batch)s FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM social.ingest_batches WHERE id IN (SELECT id FROM doomed) RETURNING 1
)
SELECT count(*) AS removed FROM gone;
