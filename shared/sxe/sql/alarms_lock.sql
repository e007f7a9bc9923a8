SELECT state FROM ops.alarm_states WHERE alarm = %(alarm)s FOR UPDATE;
