-- The content hashes among %(content_hashes)s already received: as a stored raw
-- record, or as a delivery whose profile was unchanged.
SELECT content_hash FROM social.raw_records WHERE content_hash = ANY(%(content_hashes)s::text[])
UNION ALL
SELECT content_hash FROM social.unchanged_deliveries WHERE content_hash = ANY(%(content_hashes)s::text[]);
