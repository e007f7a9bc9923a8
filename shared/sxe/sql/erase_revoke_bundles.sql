-- Every bundle that holds one of the cards, revoked now unless it already was. All of them
-- are returned, so a repeated erasure deletes objects a failed earlier attempt left behind.
WITH holding AS (
    SELECT DISTINCT bundle_id FROM ops.bundle_cards WHERE card_id = ANY(%(card_ids)s)
),
revoked AS (
    UPDATE ops.bundles
       SET revoked_at = clock_timestamp(), revoked_reason = %(reason)s
     WHERE id IN (SELECT bundle_id FROM holding) AND revoked_at IS NULL
    RETURNING id
)
SELECT bundle.id, bundle.data_key, bundle.manifest_key,
       bundle.id IN (SELECT id FROM revoked) AS newly_revoked
  FROM ops.bundles AS bundle
 WHERE bundle.id IN (SELECT bundle_id FROM holding)
 ORDER BY bundle.id;
