-- Revoke every bundle not yet revoked that contains the card; return their ids.
UPDATE ops.bundles
   SET revoked_at = clock_timestamp(), revoked_reason = %(reason)s
 WHERE revoked_at IS NULL
   AND id IN (SELECT bundle_id FROM ops.bundle_cards WHERE card_id = %(card_id)s)
RETURNING id;
