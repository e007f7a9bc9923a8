-- A delivery with its records as received. A batch stored before intake.webhook_records
-- existed has its records, redacted, on the batch row instead.
SELECT delivery.id, delivery.source, delivery.webhook_id, delivery.format, delivery.pool,
       coalesce(received.records, delivery.records, '[]') AS records,
       delivery.sent_at, delivery.normalized_at, ingest.collected_at, ingest.source_file
  FROM social.webhook_batches AS delivery
  JOIN social.ingest_batches AS ingest ON ingest.id = delivery.id
  LEFT JOIN intake.webhook_records AS received ON received.batch_id = delivery.id
 WHERE delivery.id = %(id)s;
