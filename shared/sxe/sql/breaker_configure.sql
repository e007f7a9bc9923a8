-- NULL leaves a setting as it is.
UPDATE ops.circuit_breakers
   SET failure_threshold = coalesce(%(failure_threshold)s, failure_threshold),
       open_seconds = coalesce(%(open_seconds)s, open_seconds),
       updated_at = clock_timestamp()
 WHERE provider = %(provider)s;
