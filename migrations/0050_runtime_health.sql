-- Runtime health: a heartbeat per function, the state of each alarm, and provider
-- error rates for roles that may not read the audit log itself.

-- One row per function (its `package/function` path), written at the start and end of each invocation.
CREATE TABLE ops.worker_heartbeats (
    worker         text PRIMARY KEY,
    activation_id  text NOT NULL,
    started_at     timestamptz NOT NULL,
    beat_at        timestamptz NOT NULL DEFAULT now(),
    -- HTTP status of the last finished invocation; NULL while the first one runs.
    last_status    integer
);

-- One row per alarm ("queue_depth", "heartbeat_age:enrich/run", ...). An alarm fires
-- when its value crosses its threshold and clears when it is back under it; the row
-- lets a check know whether the episode is new, so each episode logs and emits once.
CREATE TABLE ops.alarm_states (
    alarm       text PRIMARY KEY,
    state       text NOT NULL CHECK (state IN ('ok', 'firing')),
    value       double precision,
    threshold   double precision NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    checked_at  timestamptz NOT NULL DEFAULT now()
);

-- Calls and errors per provider over the last `window_seconds`, from the audit log's
-- lookup rows. SECURITY DEFINER so health checks get the counts without reading rows.
CREATE FUNCTION ops.provider_error_rates(window_seconds integer)
RETURNS TABLE (provider text, calls bigint, errors bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, ops
AS $$
    SELECT detail->>'provider',
           count(*) FILTER (WHERE detail->>'outcome' IN ('matched', 'no_match')
                            OR detail->>'outcome' = 'permanent_error'
                            OR detail->>'outcome' LIKE 'retryable_error%'),
           count(*) FILTER (WHERE detail->>'outcome' = 'permanent_error'
                            OR detail->>'outcome' LIKE 'retryable_error%')
    FROM ops.audit_log
    WHERE action = 'enrichment.lookup'
      AND at > clock_timestamp() - make_interval(secs => window_seconds)
    GROUP BY 1
$$;

REVOKE ALL ON FUNCTION ops.provider_error_rates(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.provider_error_rates(integer) TO sxe_api, sxe_worker;

GRANT SELECT, INSERT, UPDATE ON ops.worker_heartbeats, ops.alarm_states TO sxe_worker;
-- Health checks run as sxe_api and only read.
GRANT SELECT ON ops.worker_heartbeats, ops.alarm_states, ops.jobs, ops.circuit_breakers, ops.budgets TO sxe_api;
