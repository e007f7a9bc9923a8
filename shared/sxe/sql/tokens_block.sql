-- Honour a provider's Retry-After: no token is handed out before then.
UPDATE ops.provider_buckets
   SET blocked_until = greatest(coalesce(blocked_until, clock_timestamp()),
                                clock_timestamp() + make_interval(secs => %(seconds)s))
 WHERE provider = %(provider)s;
