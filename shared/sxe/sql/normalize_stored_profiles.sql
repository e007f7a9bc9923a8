-- The stored id and content hash of each (platform, identity_key) pair given as two
-- parallel arrays, in binary format. Ingest reads it for the profiles its upsert left alone.
SELECT profiles.id, profiles.platform, profiles.identity_key, profiles.content_sha256
FROM social.profiles
JOIN unnest(%(platforms)b::text[], %(identity_keys)b::text[]) AS wanted (platform, identity_key)
  ON profiles.platform = wanted.platform AND profiles.identity_key = wanted.identity_key;
