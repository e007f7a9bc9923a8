-- Whether a committed card of `pools` is at or above this snapshot's xmin. api_cards_page
-- does not read it yet, because a transaction that got its id before the card's still runs.
SELECT EXISTS (
    SELECT FROM execution.lead_cards AS card
     WHERE card.pool = ANY (%(pools)s::text[])
       AND card.readiness IN ('ready', 'handed_off')
       AND card.updated_xid >= pg_snapshot_xmin(pg_current_snapshot())
) AS held_back;
