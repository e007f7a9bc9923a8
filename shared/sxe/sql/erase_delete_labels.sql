WITH gone AS (DELETE FROM execution.card_labels WHERE card_id = ANY(%(card_ids)s) RETURNING 1)
SELECT count(*) AS removed FROM gone;
