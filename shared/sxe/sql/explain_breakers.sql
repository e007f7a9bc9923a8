-- The current breaker of each named provider.
SELECT provider, state, consecutive_failures, opened_at
  FROM ops.circuit_breakers
 WHERE provider = ANY(%(providers)s)
 ORDER BY provider;
