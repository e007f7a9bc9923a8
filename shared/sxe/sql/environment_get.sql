SELECT name FROM ops.environment;
