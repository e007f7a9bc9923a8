-- One keyset page of the cards released to consumers in `pools`, in the order of the
-- transaction that last changed each card, after the cursor's (updated_xid, card_id) when
-- one is given. Only cards written by a transaction below this snapshot's xmin are read.
-- Those transactions have all ended. Any transaction still running or yet to start gets
-- an id at or above that xmin, so no card can later appear before the cards returned.
SELECT card.*
  FROM contact.handoff_cards AS card
 WHERE card.pool = ANY (%(pools)s::text[])
   AND card.readiness IN ('ready', 'handed_off')
   AND card.updated_xid < pg_snapshot_xmin(pg_current_snapshot())
   AND (%(after_xid)s::xid8 IS NULL
        OR (card.updated_xid, card.card_id) > (%(after_xid)s::xid8, %(after_card_id)s::uuid))
 ORDER BY card.updated_xid, card.card_id
 LIMIT %(limit)s;
