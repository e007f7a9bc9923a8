-- Closed lets calls through. Open turns half-open once its wait is over, and exactly
-- one caller wins that UPDATE and makes the probe; the others see 'open'.
-- A half-open probe that never reports back (its job was deferred for a rate token,
-- ended without a call, or its worker crashed) expires after the same wait, so
-- the next caller may probe. Without this the breaker would stay half-open for good.
UPDATE ops.circuit_breakers
   SET state = 'half_open', updated_at = clock_timestamp()
 WHERE provider = %(provider)s
   AND (
        (state = 'open' AND opened_at + make_interval(secs => open_seconds) <= clock_timestamp())
        OR (state = 'half_open' AND updated_at + make_interval(secs => open_seconds) <= clock_timestamp())
   )
RETURNING 'probe' AS verdict;
