-- Insert a chunk's profiles, or update each one whose normalized content changed.
-- %(profiles)s is a JSON array with at most one element per (platform, identity_key),
-- because ON CONFLICT DO UPDATE cannot change the same row twice in one statement.
-- Rows go in key order, so concurrent chunks lock shared profiles in the same order.
-- The array is read as json, not jsonb: it is read once, and json skips building
-- the binary form.
--
-- A stored profile is left alone, and returns no row, when its content is unchanged
-- or when it was collected after this chunk: an older record never overwrites newer
-- values. A field the new record leaves out keeps its stored value.
--
-- changed_xid is the id of the transaction that last changed the profile, from the column
-- default on insert. A tagging pass re-tags every card whose snapshot cannot see it.
INSERT INTO social.profiles (
    platform, identity_key, platform_user_id, handle, display_name, bio, profile_url,
    followers, following, posts, likes, verified, website_domain, language,
    bio_has_email, bio_has_phone, quality_flags, source_format, source_file, collected_at, content_sha256
)
SELECT
    incoming.platform, incoming.identity_key, incoming.platform_user_id, incoming.handle, incoming.display_name,
    incoming.bio, incoming.profile_url, incoming.followers, incoming.following, incoming.posts, incoming.likes,
    incoming.verified, incoming.website_domain, incoming.language, incoming.bio_has_email, incoming.bio_has_phone,
    incoming.quality_flags, incoming.source_format, %(source_file)s, %(collected_at)s, incoming.content_sha256
FROM json_to_recordset(%(profiles)s::json) AS incoming (
    platform text, identity_key text, platform_user_id text, handle text, display_name text, bio text,
    profile_url text, followers bigint, following bigint, posts bigint, likes bigint, verified boolean,
    website_domain text, language text, bio_has_email boolean, bio_has_phone boolean, quality_flags text[],
    source_format text, content_sha256 text
)
ORDER BY incoming.platform, incoming.identity_key
ON CONFLICT (platform, identity_key) DO UPDATE SET
    platform_user_id = coalesce(EXCLUDED.platform_user_id, profiles.platform_user_id),
    handle           = coalesce(EXCLUDED.handle, profiles.handle),
    display_name     = coalesce(EXCLUDED.display_name, profiles.display_name),
    bio              = coalesce(EXCLUDED.bio, profiles.bio),
    profile_url      = coalesce(EXCLUDED.profile_url, profiles.profile_url),
    followers        = coalesce(EXCLUDED.followers, profiles.followers),
    following        = coalesce(EXCLUDED.following, profiles.following),
    posts            = coalesce(EXCLUDED.posts, profiles.posts),
    likes            = coalesce(EXCLUDED.likes, profiles.likes),
    verified         = EXCLUDED.verified,
    website_domain   = coalesce(EXCLUDED.website_domain, profiles.website_domain),
    language         = coalesce(EXCLUDED.language, profiles.language),
    bio_has_email    = EXCLUDED.bio_has_email,
    bio_has_phone    = EXCLUDED.bio_has_phone,
    quality_flags    = EXCLUDED.quality_flags,
    source_format    = EXCLUDED.source_format,
    source_file      = EXCLUDED.source_file,
    collected_at     = EXCLUDED.collected_at,
    content_sha256   = EXCLUDED.content_sha256,
    updated_at       = now(),
    changed_xid      = pg_current_xact_id()
WHERE profiles.content_sha256 IS DISTINCT FROM EXCLUDED.content_sha256
  AND profiles.collected_at <= EXCLUDED.collected_at
RETURNING id, platform, identity_key, (xmax = 0) AS inserted;
