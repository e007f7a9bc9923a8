-- One keyset page of the merges of cards in `pools`, in the order of the transaction that
-- recorded each one, after the cursor's (created_xid, card_id) when one is given. Only
-- events of a transaction below this snapshot's xmin are read, as in api_cards_page.
-- A merge is the card's move to `merged`, which happens once per card, and the card row
-- keeps `merged_into` from then on.
SELECT card.id AS card_id, card.pool, card.merged_into, event.created_at AS merged_at, event.created_xid
  FROM ops.events AS event
  JOIN execution.lead_cards AS card ON card.id::text = event.subject_id
 WHERE event.type = 'card.readiness_changed'
   AND event.data ->> 'readiness' = 'merged'
   AND card.pool = ANY (%(pools)s::text[])
   AND event.created_xid < pg_snapshot_xmin(pg_current_snapshot())
   AND (%(after_xid)s::xid8 IS NULL
        OR (event.created_xid, card.id) > (%(after_xid)s::xid8, %(after_card_id)s::uuid))
   -- Implied by the line above, but only this form can bound a scan of the event index.
   AND (%(after_xid)s::xid8 IS NULL OR event.created_xid >= %(after_xid)s::xid8)
 ORDER BY event.created_xid, card.id
 LIMIT %(limit)s;
