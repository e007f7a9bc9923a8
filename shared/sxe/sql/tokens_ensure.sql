INSERT INTO ops.provider_buckets (provider, capacity, refill_per_second, tokens)
VALUES (%(provider)s, %(capacity)s, %(refill_per_second)s, %(capacity)s)
ON CONFLICT (provider) DO UPDATE
   SET capacity = EXCLUDED.capacity, refill_per_second = EXCLUDED.refill_per_second;
