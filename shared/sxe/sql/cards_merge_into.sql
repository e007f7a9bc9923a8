-- Hand a merged card's contact to the card that took its profiles, unless that card
-- has its own, and drop the merged card's labels.
WITH source AS (
    UPDATE execution.lead_cards
       SET merged_into = %(survivor_id)s, person_id = NULL, updated_at = clock_timestamp()
     WHERE id = %(card_id)s
    RETURNING contact_id
),
labels AS (
    DELETE FROM execution.card_labels WHERE card_id = %(card_id)s
)
UPDATE execution.lead_cards AS survivor
   SET contact_id = coalesce(survivor.contact_id, source.contact_id)
  FROM source
 WHERE survivor.id = %(survivor_id)s;
