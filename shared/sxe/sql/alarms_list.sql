SELECT alarm, state, value, threshold, changed_at, checked_at FROM ops.alarm_states ORDER BY alarm;
