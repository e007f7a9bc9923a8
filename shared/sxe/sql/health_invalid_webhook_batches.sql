-- Signed webhook bodies quarantined whole as invalid batches within the window.
SELECT count(*)::integer AS batches
  FROM ops.quarantine
 WHERE kind = 'invalid_batch' AND created_at > now() - make_interval(secs => %(window_seconds)s);
