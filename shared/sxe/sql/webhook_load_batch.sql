SELECT delivery.id, delivery.source, delivery.webhook_id, delivery.format, delivery.pool, delivery.records,
       delivery.sent_at, delivery.normalized_at, ingest.collected_at, ingest.source_file
  FROM social.webhook_batches AS delivery
  JOIN social.ingest_batches AS ingest ON ingest.id = delivery.id
 WHERE delivery.id = %(id)s;
