-- One new card per profile that has none. The CTE is materialized (it is read
-- twice), so each profile keeps the one card id drawn for it.
WITH unassigned AS MATERIALIZED (
    SELECT gen_random_uuid() AS card_id, profile.id AS profile_id
      FROM social.profiles AS profile
     WHERE NOT EXISTS (SELECT 1 FROM execution.card_profiles AS link WHERE link.profile_id = profile.id)
),
cards AS (
    INSERT INTO execution.lead_cards (id, pool)
    SELECT card_id, %(pool)s FROM unassigned
    RETURNING id
)
INSERT INTO execution.card_profiles (card_id, profile_id)
SELECT card_id, profile_id FROM unassigned
RETURNING card_id;
