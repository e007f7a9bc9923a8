SELECT data ->> 'previous' AS previous, data ->> 'readiness' AS readiness, data ->> 'reason' AS reason, created_at
  FROM ops.events
 WHERE type = 'card.readiness_changed' AND subject_id = %(card_id)s::text
 ORDER BY id;
