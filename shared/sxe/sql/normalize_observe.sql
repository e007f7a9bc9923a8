-- One row per change of a profile, with the source that reported it.
INSERT INTO social.profile_observations (
    profile_id, raw_record_id, observed_at, followers, following, posts, likes,
    source_name, run_id, collected_at, source_url
) VALUES (
    %(profile_id)s, %(raw_record_id)s, %(observed_at)s, %(followers)s, %(following)s, %(posts)s, %(likes)s,
    %(source_name)s, %(run_id)s, %(collected_at)s, %(source_url)s
);
