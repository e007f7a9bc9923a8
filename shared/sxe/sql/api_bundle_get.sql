SELECT id, pool, schema_version, manifest_key, data_key, record_count, contact_fields, store,
       created_at, expires_at, revoked_at
  FROM ops.bundles
 WHERE id = %(bundle_id)s;
