-- The latest raw record of each profile whose website is a link hub. Tier 1 keeps only
-- the hub's domain, and the record still holds the full link with the page name.
SELECT DISTINCT ON (observation.profile_id)
       observation.profile_id, raw.format, raw.payload
  FROM social.profiles AS profile
  JOIN social.profile_observations AS observation ON observation.profile_id = profile.id
  JOIN social.raw_records AS raw ON raw.id = observation.raw_record_id
 WHERE profile.website_domain = ANY(%(hub_hosts)s)
 ORDER BY observation.profile_id, observation.observed_at DESC, raw.id DESC;
