-- One keyset page of the erasures of cards in `pools`, after the cursor's (erased_at, card_id)
-- when one is given. An erasure keeps the card row, suppressed, for the tombstone's pool.
SELECT card.id AS card_id, card.pool, event.created_at AS erased_at
  FROM ops.events AS event
  JOIN execution.lead_cards AS card ON card.id::text = event.subject_id
 WHERE event.type = 'card.erased'
   AND card.pool = ANY (%(pools)s::text[])
   AND (%(after_time)s::timestamptz IS NULL
        OR (event.created_at, card.id) > (%(after_time)s::timestamptz, %(after_card_id)s::uuid))
 ORDER BY event.created_at, card.id
 LIMIT %(limit)s;
