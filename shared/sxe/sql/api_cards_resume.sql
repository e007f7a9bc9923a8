-- The first position, in page order, among the cards in `pools` that come after a cursor
-- issued when pages were ordered by (updated_at, card_id). Paging from there skips
-- nothing that the old cursor had not passed, and may deliver some cards again.
SELECT card.updated_xid AS xid, card.card_id
  FROM contact.handoff_cards AS card
 WHERE card.pool = ANY (%(pools)s::text[])
   AND card.readiness IN ('ready', 'handed_off')
   AND (card.updated_at, card.card_id) > (%(after_time)s::timestamptz, %(after_card_id)s::uuid)
 ORDER BY card.updated_xid, card.card_id
 LIMIT 1;
