-- Take one rate token in one call, and return the seconds to wait when none is free.
--
-- The UPDATE is the one tokens_acquire.sql sent as text on every call. Inside PL/pgSQL
-- the server keeps its plan for the rest of the session, so a call skips the parse and
-- plan of the refill expression. A plan cached inside a function lives in the server
-- process, not in the protocol, so PgBouncer's transaction mode is unaffected.
--
-- clock_timestamp() stays inside the UPDATE, as before: a caller that waited for another
-- caller's row lock re-checks the WHERE clause and computes the refill on the new row
-- version with the time at which it got the lock, not the time at which it started.
--
-- Returns 0 when a token was taken, otherwise the seconds until the next token is due or
-- the Retry-After block ends (at least 0.001, so that 0 always means taken), and NULL
-- when the provider has no bucket. SECURITY INVOKER: the caller needs UPDATE on
-- ops.provider_buckets, as sxe_worker has. Every name in the body is schema-qualified
-- or in pg_catalog, so the function needs no search_path setting, which would cost a
-- save and restore on every call.
CREATE FUNCTION ops.take_provider_token(bucket_provider text)
RETURNS double precision
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    wait_seconds double precision;
BEGIN
    UPDATE ops.provider_buckets
       SET tokens = least(capacity, tokens + extract(epoch FROM clock_timestamp() - refilled_at) * refill_per_second) - 1,
           refilled_at = clock_timestamp()
     WHERE provider = bucket_provider
       AND (blocked_until IS NULL OR blocked_until <= clock_timestamp())
       AND least(capacity, tokens + extract(epoch FROM clock_timestamp() - refilled_at) * refill_per_second) >= 1;
    IF FOUND THEN
        RETURN 0;
    END IF;

    SELECT greatest(
               extract(epoch FROM coalesce(blocked_until, clock_timestamp()) - clock_timestamp()),
               (1 - least(capacity, tokens + extract(epoch FROM clock_timestamp() - refilled_at) * refill_per_second))
                   / refill_per_second,
               0.001
           )::double precision
      INTO wait_seconds
      FROM ops.provider_buckets
     WHERE provider = bucket_provider;
    RETURN wait_seconds;
END
$$;

REVOKE ALL ON FUNCTION ops.take_provider_token(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.take_provider_token(text) TO sxe_worker;
