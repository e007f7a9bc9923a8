-- The content hashes among %(content_hashes)s whose raw record is already stored.
SELECT content_hash FROM social.raw_records WHERE content_hash = ANY(%(content_hashes)s::text[]);
