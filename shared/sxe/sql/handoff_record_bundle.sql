INSERT INTO ops.bundles (
    id, pool, schema_version, manifest_key, data_key, record_count, sha256, expires_at,
    filters, contact_fields, store
) VALUES (
    %(id)s, %(pool)s, %(schema_version)s, %(manifest_key)s, %(data_key)s, %(record_count)s, %(sha256)s,
    %(expires_at)s, %(filters)s, %(contact_fields)s, %(store)s
);
