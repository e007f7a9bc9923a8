-- An erased card keeps its id for the tombstone, and nothing that describes the person:
-- the signals name profiles and websites, and the language comes from the bio.
WITH cleared AS (
    UPDATE execution.lead_cards
       SET signals = '{}', language = NULL, updated_at = clock_timestamp()
     WHERE id = ANY(%(card_ids)s) AND (signals <> '{}' OR language IS NOT NULL)
    RETURNING 1
)
SELECT count(*) AS removed FROM cleared;
