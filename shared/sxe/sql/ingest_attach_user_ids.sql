-- Re-key each handle-keyed profile to the user id an incoming record shows for its handle,
-- and move its bio sightings to the new key. %(claims)s is a JSON array of
-- {platform, handle (lowercase), user_id} with one element per (platform, handle).
-- A profile already stored under that id keeps both apart: merging two stored
-- profiles would have to move their observations, raw records and card links.
WITH claim AS (
    SELECT platform, handle, user_id
      FROM jsonb_to_recordset(%(claims)s::jsonb) AS claim (platform text, handle text, user_id text)
), attached AS (
    UPDATE social.profiles AS profile
       SET identity_key = 'id:' || claim.user_id,
           platform_user_id = claim.user_id,
           updated_at = now(),
           changed_xid = pg_current_xact_id()
      FROM claim
     WHERE profile.platform = claim.platform
       AND profile.identity_key = 'handle:' || claim.handle
       AND NOT EXISTS (
             SELECT 1 FROM social.profiles AS taken
              WHERE taken.platform = claim.platform AND taken.identity_key = 'id:' || claim.user_id)
    RETURNING profile.id, profile.platform, profile.identity_key, 'handle:' || claim.handle AS previous_key
), moved AS (
    UPDATE contact.bio_sightings AS sighting
       SET identity_key = attached.identity_key
      FROM attached
     WHERE sighting.platform = attached.platform AND sighting.identity_key = attached.previous_key
)
SELECT id, platform, identity_key, previous_key FROM attached;
