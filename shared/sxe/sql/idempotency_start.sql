-- Recorded before the paid call. No row back means the call already completed and
-- was paid for; `fresh` is false when an earlier attempt died after starting it.
INSERT INTO ops.idempotency_keys (key, provider, state) VALUES (%(key)s, %(provider)s, 'started')
ON CONFLICT (key) DO UPDATE SET state = 'started'
 WHERE idempotency_keys.state <> 'completed'
RETURNING key, (xmax = 0) AS fresh;
