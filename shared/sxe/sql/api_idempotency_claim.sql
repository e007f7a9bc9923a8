-- Claim an Idempotency-Key for one call. A row comes back when the caller may run
-- the call: the key is new, or an earlier call with the same request started and
-- died (its lock passed). No row means another call holds the key or finished it.
INSERT INTO ops.api_idempotency (consumer_id, key, request_sha256, state, locked_until)
VALUES (%(consumer_id)s, %(key)s, %(request_sha256)s, 'started',
        clock_timestamp() + make_interval(secs => %(lock_seconds)s))
ON CONFLICT (consumer_id, key) DO UPDATE
   SET locked_until = EXCLUDED.locked_until
 WHERE api_idempotency.state = 'started'
   AND api_idempotency.locked_until < clock_timestamp()
   AND api_idempotency.request_sha256 = EXCLUDED.request_sha256
RETURNING key;
