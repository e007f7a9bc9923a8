-- Read-only: open and still inside its wait. The sweep uses this; only a worker probes.
SELECT 1 AS open
  FROM ops.circuit_breakers
 WHERE provider = %(provider)s AND state = 'open'
   AND opened_at + make_interval(secs => open_seconds) > clock_timestamp();
