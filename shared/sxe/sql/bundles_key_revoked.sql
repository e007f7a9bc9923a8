SELECT 1 FROM ops.bundles
 WHERE revoked_at IS NOT NULL AND (data_key = %(key)s OR manifest_key = %(key)s);
