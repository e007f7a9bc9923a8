INSERT INTO social.profile_observations (profile_id, raw_record_id, observed_at, followers, following, posts)
VALUES (%(profile_id)s, %(raw_record_id)s, %(observed_at)s, %(followers)s, %(following)s, %(posts)s)
ON CONFLICT DO NOTHING;
