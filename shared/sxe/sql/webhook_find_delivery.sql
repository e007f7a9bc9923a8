SELECT id, record_count, accepted, quarantined, body_sha256
  FROM social.webhook_batches
 WHERE source = %(source)s AND webhook_id = %(webhook_id)s;
