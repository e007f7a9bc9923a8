-- Every profile with the fields identity resolution matches on.
SELECT id, platform, identity_key, handle, display_name, bio, website_domain
  FROM social.profiles
 ORDER BY id;
