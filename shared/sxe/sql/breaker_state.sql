SELECT state FROM ops.circuit_breakers WHERE provider = %(provider)s;
