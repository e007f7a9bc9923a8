-- Move every card of a pool in one of `from_states` and record one event per card,
-- naming the state each card left. The rows are locked in id order before the update.
WITH before AS (
    SELECT id, readiness AS previous
      FROM execution.lead_cards
     WHERE pool = %(pool)s AND readiness = ANY(%(from_states)s)
     ORDER BY id
       FOR UPDATE
), moved AS (
    UPDATE execution.lead_cards AS card
       SET readiness = %(to_state)s,
           readiness_reason = coalesce(%(reason)s, card.readiness_reason),
           updated_at = clock_timestamp()
      FROM before
     WHERE card.id = before.id
    RETURNING card.id, card.readiness_reason, before.previous
)
INSERT INTO ops.events (type, subject_id, data)
SELECT 'card.readiness_changed', moved.id::text,
       jsonb_build_object('readiness', %(to_state)s::text, 'previous', moved.previous, 'reason', moved.readiness_reason)
  FROM moved
RETURNING subject_id;
