-- Point each profile at its person; rows that already do are left untouched.
INSERT INTO execution.person_profiles (profile_id, person_id)
SELECT * FROM unnest(%(profile_ids)s::uuid[], %(person_ids)s::uuid[])
ON CONFLICT (profile_id) DO UPDATE SET person_id = EXCLUDED.person_id
 WHERE person_profiles.person_id IS DISTINCT FROM EXCLUDED.person_id;
