SELECT worker, last_status, extract(epoch FROM now() - beat_at)::double precision AS age_seconds
FROM ops.worker_heartbeats
ORDER BY worker;
