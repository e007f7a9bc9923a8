-- Claim a delivery by (source, webhook id). A redelivery, or a second delivery
-- racing this one, waits for the first to commit, then hits the key and gets no row.
INSERT INTO social.webhook_batches (
    id, source, webhook_id, format, pool, body_sha256, record_count, accepted, quarantined, sent_at
) VALUES (
    %(id)s, %(source)s, %(webhook_id)s, %(format)s, %(pool)s, %(body_sha256)s,
    %(record_count)s, %(accepted)s, %(quarantined)s, %(sent_at)s
)
ON CONFLICT (source, webhook_id) DO NOTHING
RETURNING id;
