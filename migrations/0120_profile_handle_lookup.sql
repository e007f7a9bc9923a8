-- Ingest looks up the profile with a user id that shows a handle, to join a
-- handle-only record (such as a Threads profile_lookup) to it.
CREATE INDEX profiles_platform_handle_with_id ON social.profiles (platform, lower(handle))
    WHERE platform_user_id IS NOT NULL;
