-- Whether a committed erasure of a card in `pools` waits above this snapshot's xmin, which
-- api_erasures_page does not read yet: a transaction that is still running got its id first.
SELECT EXISTS (
    SELECT FROM ops.events AS event
      JOIN execution.lead_cards AS card ON card.id::text = event.subject_id
     WHERE event.type = 'card.erased'
       AND card.pool = ANY (%(pools)s::text[])
       AND event.created_xid >= pg_snapshot_xmin(pg_current_snapshot())
) AS held_back;
