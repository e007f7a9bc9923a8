-- The user id of the stored profile that shows each (platform, lowercase handle) given
-- as two parallel arrays, in binary format. When several ids showed the handle, the
-- profile collected last uses it now.
SELECT DISTINCT ON (profile.platform, lower(profile.handle))
       profile.platform, lower(profile.handle) AS handle, profile.platform_user_id
  FROM social.profiles AS profile
  JOIN unnest(%(platforms)b::text[], %(handles)b::text[]) AS wanted (platform, handle)
    ON profile.platform = wanted.platform AND lower(profile.handle) = wanted.handle
 WHERE profile.platform_user_id IS NOT NULL
 ORDER BY profile.platform, lower(profile.handle), profile.collected_at DESC, profile.id;
