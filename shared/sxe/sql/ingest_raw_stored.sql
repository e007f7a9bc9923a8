-- The content hashes among %(content_hashes)b already received: as a stored raw
-- record, or as a delivery whose profile was unchanged. The array goes in binary
-- format, which psycopg writes several times faster than an array literal.
SELECT content_hash FROM social.raw_records WHERE content_hash = ANY(%(content_hashes)b::text[])
UNION ALL
SELECT content_hash FROM social.unchanged_deliveries WHERE content_hash = ANY(%(content_hashes)b::text[]);
