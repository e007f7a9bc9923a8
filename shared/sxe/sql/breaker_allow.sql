-- Closed lets calls through. Open turns half-open once its wait is over, and exactly
-- one caller wins that UPDATE and makes the probe; the others see 'open'.
UPDATE ops.circuit_breakers
   SET state = 'half_open', updated_at = clock_timestamp()
 WHERE provider = %(provider)s AND state = 'open'
   AND opened_at + make_interval(secs => open_seconds) <= clock_timestamp()
RETURNING 'probe' AS verdict;
