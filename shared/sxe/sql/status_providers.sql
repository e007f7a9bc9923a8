-- Per provider: calls that reached it, calls it billed, lookups served from the cooldown
-- memory, misses, calls that failed (retryable or permanent), breaker state and this
-- period's provider budget. Calls come from the worker's audit rows, and cache hits also
-- count sweep decisions taken from that memory. With a pool, calls and cache hits count
-- that pool's cards only, while the breaker and the provider budget are every pool's.
WITH providers AS (
    SELECT provider FROM ops.circuit_breakers
    UNION
    SELECT substr(scope, length('provider:') + 1) FROM ops.budgets WHERE scope LIKE 'provider:%%'
),
lookups AS (
    SELECT detail->>'provider' AS provider,
           count(*) FILTER (WHERE detail->>'outcome' IN ('matched', 'no_match', 'permanent_error')
                               OR detail->>'outcome' LIKE 'retryable_error%%') AS calls,
           count(*) FILTER (WHERE (detail->>'credits')::integer > 0) AS billable_calls,
           count(*) FILTER (WHERE detail->>'outcome' = 'reused') AS reused,
           count(*) FILTER (WHERE detail->>'outcome' = 'no_match') AS misses,
           count(*) FILTER (WHERE detail->>'outcome' = 'permanent_error'
                               OR detail->>'outcome' LIKE 'retryable_error%%') AS errors
      FROM ops.audit_log
     WHERE action = 'enrichment.lookup'
       AND (%(pool)s::text IS NULL
            OR subject IN (SELECT 'lead_card:' || card.id FROM execution.lead_cards AS card WHERE card.pool = %(pool)s))
     GROUP BY 1
),
remembered AS (
    SELECT provider, count(*) AS hits
      FROM ops.enrichment_decisions
     WHERE reason IN ('cooldown_matched', 'cooldown_no_match')
       AND (%(pool)s::text IS NULL
            OR card_id IN (SELECT card.id FROM execution.lead_cards AS card WHERE card.pool = %(pool)s))
     GROUP BY provider
)
SELECT providers.provider,
       coalesce(lookups.calls, 0) AS calls,
       coalesce(lookups.billable_calls, 0) AS billable_calls,
       coalesce(lookups.reused, 0) + coalesce(remembered.hits, 0) AS cache_hits,
       coalesce(lookups.misses, 0) AS misses,
       coalesce(lookups.errors, 0) AS errors,
       coalesce(breaker.state, 'closed') AS breaker,
       breaker.consecutive_failures,
       budget.limit_credits,
       budget.reserved_credits,
       budget.spent_credits
  FROM providers
  LEFT JOIN lookups USING (provider)
  LEFT JOIN remembered USING (provider)
  LEFT JOIN ops.circuit_breakers AS breaker USING (provider)
  LEFT JOIN ops.budgets AS budget
         ON budget.scope = 'provider:' || providers.provider AND budget.period = %(period)s
 ORDER BY providers.provider;
