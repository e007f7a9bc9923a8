-- Everything Tier 1 holds on the given profiles, each with its observations and their sources.
SELECT to_jsonb(profile) AS profile,
       coalesce((SELECT jsonb_agg(to_jsonb(seen) - 'profile_id' ORDER BY seen.observed_at)
                   FROM social.profile_observations AS seen
                  WHERE seen.profile_id = profile.id), '[]') AS observations
  FROM social.profiles AS profile
 WHERE profile.id = ANY(%(profile_ids)s)
 ORDER BY profile.platform, profile.handle, profile.id;
