INSERT INTO ops.alarm_states (alarm, state, threshold) VALUES (%(alarm)s, 'ok', %(threshold)s)
ON CONFLICT (alarm) DO NOTHING;
