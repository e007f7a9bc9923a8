-- Tier 3: cards unchanged since the cutoff; labels and profile links go with them (cascade).
WITH doomed AS (
    SELECT id FROM execution.lead_cards WHERE updated_at < %(cutoff)s ORDER BY id LIMIT %(batch)s FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM execution.lead_cards WHERE id IN (SELECT id FROM doomed) RETURNING 1
)
SELECT count(*) AS removed FROM gone;
