-- A failed half-open probe reopens at once; a closed breaker opens at the threshold.
UPDATE ops.circuit_breakers
   SET consecutive_failures = consecutive_failures + 1,
       state = CASE
                   WHEN state = 'half_open' OR consecutive_failures + 1 >= failure_threshold THEN 'open'
                   ELSE state
               END,
       opened_at = CASE
                       WHEN state = 'half_open' OR consecutive_failures + 1 >= failure_threshold THEN clock_timestamp()
                       ELSE opened_at
                   END,
       updated_at = clock_timestamp()
 WHERE provider = %(provider)s
RETURNING state;
