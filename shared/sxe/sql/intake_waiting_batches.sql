-- The deliveries whose records wait in intake, oldest first, locked against a normalize
-- job deleting them while an erasure looks through them.
SELECT received.batch_id, delivery.source, delivery.format, received.received_at
  FROM intake.webhook_records AS received
  JOIN social.webhook_batches AS delivery ON delivery.id = received.batch_id
 ORDER BY received.received_at, received.batch_id
   FOR UPDATE OF received;
