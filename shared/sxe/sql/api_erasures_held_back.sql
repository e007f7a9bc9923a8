-- Whether a committed erasure of a card in `pools` is at or above this snapshot's xmin.
-- api_erasures_page does not read it yet, because a transaction that got its id first still runs.
SELECT EXISTS (
    SELECT FROM ops.events AS event
      JOIN execution.lead_cards AS card ON card.id::text = event.subject_id
     WHERE event.type = 'card.erased'
       AND card.pool = ANY (%(pools)s::text[])
       AND event.created_xid >= pg_snapshot_xmin(pg_current_snapshot())
) AS held_back;
