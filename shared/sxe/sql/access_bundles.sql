-- The bundles that included any of the given cards, and which of the cards each held.
SELECT bundle.id, bundle.pool, bundle.schema_version, bundle.store, bundle.created_at, bundle.expires_at,
       bundle.revoked_at, bundle.revoked_reason, array_agg(held.card_id ORDER BY held.card_id) AS card_ids
  FROM ops.bundle_cards AS held
  JOIN ops.bundles AS bundle ON bundle.id = held.bundle_id
 WHERE held.card_id = ANY(%(card_ids)s)
 GROUP BY bundle.id
 ORDER BY bundle.created_at, bundle.id;
