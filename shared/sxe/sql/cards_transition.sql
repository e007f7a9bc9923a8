-- Guarded by the current state: a card in another state is left alone and no row returns.
UPDATE execution.lead_cards
   SET readiness = %(to_state)s, readiness_reason = %(reason)s, updated_at = clock_timestamp()
 WHERE id = %(card_id)s AND readiness = ANY(%(from_states)s)
RETURNING id;
