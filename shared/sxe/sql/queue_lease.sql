-- Lease up to `max_messages` of the consumer's deliverable messages, oldest first.
-- SKIP LOCKED lets concurrent pulls of one consumer take different messages.
WITH next AS (
    SELECT id
      FROM ops.handoff_messages
     WHERE consumer_id = %(consumer_id)s AND acked_at IS NULL AND visible_at <= clock_timestamp()
     ORDER BY visible_at, enqueued_at, id
     LIMIT %(max_messages)s
       FOR UPDATE SKIP LOCKED
)
UPDATE ops.handoff_messages AS message
   SET visible_at = clock_timestamp() + make_interval(secs => %(lease_seconds)s),
       deliveries = message.deliveries + 1
  FROM next
 WHERE message.id = next.id
RETURNING message.id, message.card_id, message.pool, message.bundle_id, message.enqueued_at,
          message.deliveries, message.visible_at AS lease_expires_at;
