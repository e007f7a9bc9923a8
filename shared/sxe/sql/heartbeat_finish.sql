UPDATE ops.worker_heartbeats
SET beat_at = now(), last_status = %(status)s
WHERE worker = %(worker)s AND activation_id = %(activation_id)s;
