-- Webhook records as received that no normalize job took in before the Tier 2 cutoff,
-- because their batch's normalization failed. They hold contact data, like Tier 2. A row
-- a normalize job deletes meanwhile is simply not counted.
WITH doomed AS (
    SELECT batch_id FROM intake.webhook_records
     WHERE received_at < %(cutoff)s
     ORDER BY batch_id LIMIT %(batch)s
), gone AS (
    DELETE FROM intake.webhook_records WHERE batch_id IN (SELECT batch_id FROM doomed) RETURNING 1
)
SELECT count(*) AS removed FROM gone;
