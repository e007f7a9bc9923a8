-- Profiles known by a handle or a platform user id (`platform:value`, as in the suppression list).
SELECT id
  FROM social.profiles
 WHERE (%(kind)s = 'handle' AND platform = split_part(%(value)s, ':', 1)
                            AND lower(handle) = substr(%(value)s, strpos(%(value)s, ':') + 1))
    OR (%(kind)s = 'platform_user_id' AND platform = split_part(%(value)s, ':', 1)
                                      AND platform_user_id = substr(%(value)s, strpos(%(value)s, ':') + 1));
