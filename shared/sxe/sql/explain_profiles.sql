SELECT profile.id, profile.platform, profile.handle, profile.display_name, profile.followers,
       profile.website_domain, profile.verified, profile.quality_flags
  FROM execution.card_profiles AS link
  JOIN social.profiles AS profile ON profile.id = link.profile_id
 WHERE link.card_id = %(card_id)s
 ORDER BY profile.platform, profile.handle;
