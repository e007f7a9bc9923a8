-- Guarded by the current state. The subquery locks the row and returns its state
-- before the change, so the caller can name both states when the guard fails.
UPDATE execution.lead_cards AS card
   SET readiness = %(to_state)s,
       readiness_reason = %(reason)s,
       updated_at = clock_timestamp()
  FROM (SELECT id, readiness AS previous
          FROM execution.lead_cards
         WHERE id = %(card_id)s
           FOR UPDATE) AS before
 WHERE card.id = before.id AND before.previous = ANY(%(from_states)s)
RETURNING before.previous;
