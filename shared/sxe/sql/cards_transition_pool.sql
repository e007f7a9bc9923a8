-- Move every card of a pool in one of `from_states` and record one event per card.
WITH moved AS (
    UPDATE execution.lead_cards
       SET readiness = %(to_state)s,
           readiness_reason = coalesce(%(reason)s, readiness_reason),
           updated_at = clock_timestamp()
     WHERE pool = %(pool)s AND readiness = ANY(%(from_states)s)
    RETURNING id, readiness_reason
)
INSERT INTO ops.events (type, subject_id, data)
SELECT 'card.readiness_changed', moved.id::text,
       jsonb_build_object('readiness', %(to_state)s::text, 'reason', moved.readiness_reason)
  FROM moved
RETURNING subject_id;
