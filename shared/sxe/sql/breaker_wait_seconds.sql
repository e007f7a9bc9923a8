-- Seconds until the breaker admits a probe: the rest of an open breaker's cool-off,
-- or of a half-open probe's allowance. 0 when closed.
SELECT greatest(
           CASE state
               WHEN 'open' THEN extract(epoch FROM opened_at + open_seconds * interval '1 second' - clock_timestamp())
               WHEN 'half_open' THEN extract(epoch FROM updated_at + open_seconds * interval '1 second' - clock_timestamp())
               ELSE 0
           END,
           0
       )::double precision AS wait_seconds
  FROM ops.circuit_breakers
 WHERE provider = %(provider)s;
