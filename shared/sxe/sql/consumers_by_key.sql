-- The active consumer whose key hashes to `key_sha256`; no row for an unknown or revoked key.
SELECT id, name, pools, contact_fields, schema_version
  FROM ops.api_consumers
 WHERE key_sha256 = %(key_sha256)s AND revoked_at IS NULL;
