-- Put each profile on its card, moving it off any card it was on.
INSERT INTO execution.card_profiles (card_id, profile_id)
SELECT * FROM unnest(%(card_ids)s::uuid[], %(profile_ids)s::uuid[])
ON CONFLICT (profile_id) DO UPDATE SET card_id = EXCLUDED.card_id;
