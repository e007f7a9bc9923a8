SELECT profile_id, person_id FROM execution.person_profiles;
