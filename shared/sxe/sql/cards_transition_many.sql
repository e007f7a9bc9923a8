-- Move each listed card whose current state is one of `from_states` to `to_state`, and record
-- one card.readiness_changed event per moved card. Rows are locked in id order, so two transactions
-- moving overlapping sets of cards wait for each other instead of deadlocking.
WITH before AS (
    SELECT id, readiness AS previous
      FROM execution.lead_cards
     WHERE id = ANY(%(card_ids)b::uuid[])
     ORDER BY id
       FOR UPDATE
), moved AS (
    UPDATE execution.lead_cards AS card
       SET readiness = %(to_state)s,
           readiness_reason = %(reason)s,
           updated_at = clock_timestamp()
      FROM before
     WHERE card.id = before.id AND before.previous = ANY(%(from_states)s)
    RETURNING card.id, before.previous
), recorded AS (
    INSERT INTO ops.events (type, subject_id, data)
    SELECT 'card.readiness_changed', moved.id::text,
           jsonb_build_object('readiness', %(to_state)s::text, 'previous', moved.previous, 'reason', %(reason)s::text)
      FROM moved
     ORDER BY moved.id
)
SELECT id FROM moved;
