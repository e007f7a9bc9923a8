-- Refill the consumer's bucket by elapsed time and take one token when one is
-- available. The row lock makes concurrent calls of one consumer take turns.
-- `retry_after_seconds` is how long until the next token, when none was taken.
WITH bucket AS (
    SELECT id,
           least(rate_capacity, tokens + extract(epoch FROM clock_timestamp() - refilled_at) * rate_per_second)
               AS available,
           rate_per_second
      FROM ops.api_consumers
     WHERE id = %(consumer_id)s
       FOR UPDATE
)
UPDATE ops.api_consumers AS consumer
   SET tokens = CASE WHEN bucket.available >= 1 THEN bucket.available - 1 ELSE bucket.available END,
       refilled_at = clock_timestamp()
  FROM bucket
 WHERE consumer.id = bucket.id
RETURNING bucket.available >= 1 AS allowed,
          greatest(0, (1 - bucket.available) / bucket.rate_per_second) AS retry_after_seconds;
