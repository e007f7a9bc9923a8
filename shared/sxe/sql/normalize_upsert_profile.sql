-- Insert a profile, or update it when its normalized content changed. An unchanged
-- record matches the WHERE of DO UPDATE, updates nothing and returns no row.
-- A field the new record leaves out keeps its stored value.
INSERT INTO social.profiles (
    platform, identity_key, platform_user_id, handle, display_name, bio, profile_url,
    followers, following, posts, likes, verified, website_domain, language,
    bio_has_email, bio_has_phone, quality_flags, source_format, source_file, collected_at, content_sha256
) VALUES (
    %(platform)s, %(identity_key)s, %(platform_user_id)s, %(handle)s, %(display_name)s, %(bio)s, %(profile_url)s,
    %(followers)s, %(following)s, %(posts)s, %(likes)s, %(verified)s, %(website_domain)s, %(language)s,
    %(bio_has_email)s, %(bio_has_phone)s, %(quality_flags)s, %(source_format)s, %(source_file)s, %(collected_at)s,
    %(content_sha256)s
)
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
    collected_at     = greatest(EXCLUDED.collected_at, profiles.collected_at),
    content_sha256   = EXCLUDED.content_sha256,
    updated_at       = now()
WHERE profiles.content_sha256 IS DISTINCT FROM EXCLUDED.content_sha256
RETURNING id, (xmax = 0) AS inserted;
