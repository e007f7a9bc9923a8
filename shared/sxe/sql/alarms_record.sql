UPDATE ops.alarm_states
SET state = %(state)s,
    value = %(value)s,
    threshold = %(threshold)s,
    checked_at = now(),
    changed_at = CASE WHEN state <> %(state)s THEN now() ELSE changed_at END
WHERE alarm = %(alarm)s;
