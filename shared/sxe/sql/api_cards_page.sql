-- One keyset page of the cards released to consumers in `pools`, after the
-- cursor's (updated_at, card_id) when one is given.
SELECT card.*
  FROM contact.handoff_cards AS card
 WHERE card.pool = ANY (%(pools)s::text[])
   AND card.readiness IN ('ready', 'handed_off')
   AND (%(after_time)s::timestamptz IS NULL
        OR (card.updated_at, card.card_id) > (%(after_time)s::timestamptz, %(after_card_id)s::uuid))
 ORDER BY card.updated_at, card.card_id
 LIMIT %(limit)s;
