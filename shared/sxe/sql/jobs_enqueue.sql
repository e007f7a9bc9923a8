-- A live job (queued or running) with the same dedupe key absorbs the enqueue.
INSERT INTO ops.jobs (queue, payload, dedupe_key, priority, run_after, max_attempts)
VALUES (%(queue)s, %(payload)s, %(dedupe_key)s, %(priority)s, coalesce(%(run_after)s, now()), %(max_attempts)s)
ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'running') DO NOTHING
RETURNING id;
