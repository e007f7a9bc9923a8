-- Remember the deliveries in %(deliveries)s (content_hash, platform, identity_key)
-- whose normalized profile equalled the stored one, under that profile's id.
INSERT INTO social.unchanged_deliveries (content_hash, profile_id)
SELECT delivery.content_hash, profile.id
  FROM json_to_recordset(%(deliveries)s::json) AS delivery (content_hash text, platform text, identity_key text)
  JOIN social.profiles AS profile
    ON profile.platform = delivery.platform AND profile.identity_key = delivery.identity_key
ON CONFLICT (content_hash) DO NOTHING;
