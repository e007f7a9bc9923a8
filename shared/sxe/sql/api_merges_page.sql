-- One keyset page of the merges of cards in `pools`, after the cursor's (merged_at, card_id)
-- when one is given. A merge is the card's move to `merged`, which happens once per card,
-- and the card row keeps `merged_into` from then on.
SELECT card.id AS card_id, card.pool, card.merged_into, event.created_at AS merged_at
  FROM ops.events AS event
  JOIN execution.lead_cards AS card ON card.id::text = event.subject_id
 WHERE event.type = 'card.readiness_changed'
   AND event.data ->> 'readiness' = 'merged'
   AND card.pool = ANY (%(pools)s::text[])
   AND (%(after_time)s::timestamptz IS NULL
        OR (event.created_at, card.id) > (%(after_time)s::timestamptz, %(after_card_id)s::uuid))
 ORDER BY event.created_at, card.id
 LIMIT %(limit)s;
