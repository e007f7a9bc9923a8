SELECT alarm, value, threshold FROM ops.alarm_states WHERE state = 'firing' ORDER BY alarm;
