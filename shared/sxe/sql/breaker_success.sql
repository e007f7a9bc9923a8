UPDATE ops.circuit_breakers
   SET state = 'closed', consecutive_failures = 0, opened_at = NULL, updated_at = clock_timestamp()
 WHERE provider = %(provider)s;
