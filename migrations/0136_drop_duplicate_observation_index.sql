-- `profile_observations_raw` repeats `profile_observations_raw_record`: both index
-- social.profile_observations (raw_record_id). Every observation insert paid for both.
DROP INDEX IF EXISTS social.profile_observations_raw;
