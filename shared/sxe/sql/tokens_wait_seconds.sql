SELECT greatest(
           extract(epoch FROM coalesce(blocked_until, clock_timestamp()) - clock_timestamp()),
           (1 - least(capacity, tokens + extract(epoch FROM clock_timestamp() - refilled_at) * refill_per_second))
               / refill_per_second,
           0
       )::double precision AS wait_seconds
  FROM ops.provider_buckets
 WHERE provider = %(provider)s;
