-- Whether a committed card of `pools` waits above this snapshot's xmin, which api_cards_page
-- does not read yet: a transaction that is still running got its id before the card's.
SELECT EXISTS (
    SELECT FROM execution.lead_cards AS card
     WHERE card.pool = ANY (%(pools)s::text[])
       AND card.readiness IN ('ready', 'handed_off')
       AND card.updated_xid >= pg_snapshot_xmin(pg_current_snapshot())
) AS held_back;
