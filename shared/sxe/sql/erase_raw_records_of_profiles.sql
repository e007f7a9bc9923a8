SELECT DISTINCT raw_record_id FROM social.profile_observations WHERE profile_id = ANY(%(profile_ids)s);
