-- Store a raw record once per content hash and return its id either way. The no-op
-- update makes a redelivered record return the id of the stored one.
INSERT INTO social.raw_records (content_hash, batch_id, format, platform, location, payload)
VALUES (%(content_hash)s, %(batch_id)s, %(format)s, %(platform)s, %(location)s, %(payload)s)
ON CONFLICT (content_hash) DO UPDATE SET content_hash = EXCLUDED.content_hash
RETURNING id;
