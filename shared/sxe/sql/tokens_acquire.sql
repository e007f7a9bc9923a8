-- Refill by elapsed time and take one token in a single atomic UPDATE. When no
-- token is available, or the provider asked us to back off, no row is returned
-- and the second query tells the caller how long to wait.
UPDATE ops.provider_buckets
   SET tokens = least(capacity, tokens + extract(epoch FROM clock_timestamp() - refilled_at) * refill_per_second) - 1,
       refilled_at = clock_timestamp()
 WHERE provider = %(provider)s
   AND (blocked_until IS NULL OR blocked_until <= clock_timestamp())
   AND least(capacity, tokens + extract(epoch FROM clock_timestamp() - refilled_at) * refill_per_second) >= 1
RETURNING tokens;
