-- An exact redelivery hits the content-hash key and returns no row.
INSERT INTO social.raw_records (content_hash, batch_id, format, platform, location, payload)
VALUES (%(content_hash)s, %(batch_id)s, %(format)s, %(platform)s, %(location)s, %(payload)s)
ON CONFLICT (content_hash) DO NOTHING
RETURNING id;
