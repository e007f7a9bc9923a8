-- Every profile with the fields identity resolution matches on.
SELECT id, platform, handle, display_name, bio, website_domain
  FROM social.profiles
 ORDER BY id;
