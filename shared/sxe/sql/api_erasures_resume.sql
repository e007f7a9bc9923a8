-- The first position, in page order, among the erasures of cards in `pools` that come after
-- a cursor issued when pages were ordered by (erased_at, card_id), as in api_cards_resume.
SELECT event.created_xid AS xid, card.id AS card_id
  FROM ops.events AS event
  JOIN execution.lead_cards AS card ON card.id::text = event.subject_id
 WHERE event.type = 'card.erased'
   AND card.pool = ANY (%(pools)s::text[])
   AND (event.created_at, card.id) > (%(after_time)s::timestamptz, %(after_card_id)s::uuid)
 ORDER BY event.created_xid, card.id
 LIMIT 1;
