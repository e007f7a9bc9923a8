INSERT INTO ops.worker_heartbeats (worker, activation_id, started_at, beat_at)
VALUES (%(worker)s, %(activation_id)s, now(), now())
ON CONFLICT (worker) DO UPDATE
SET activation_id = EXCLUDED.activation_id, started_at = EXCLUDED.started_at, beat_at = EXCLUDED.beat_at;
