-- Acknowledge the consumer's messages among `message_ids`. Acknowledging twice is
-- harmless; every id of the consumer comes back, ids of others or unknown ids do not.
WITH known AS (
    SELECT id, acked_at
      FROM ops.handoff_messages
     WHERE consumer_id = %(consumer_id)s AND id = ANY (%(message_ids)s::uuid[])
       FOR UPDATE
), acked AS (
    UPDATE ops.handoff_messages AS message
       SET acked_at = clock_timestamp()
      FROM known
     WHERE message.id = known.id AND known.acked_at IS NULL
    RETURNING message.id
)
SELECT known.id, known.acked_at IS NOT NULL AS already_acked FROM known;
