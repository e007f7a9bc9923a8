INSERT INTO ops.api_consumers (
    name, key_sha256, pools, contact_fields, schema_version, rate_capacity, rate_per_second, tokens
) VALUES (
    %(name)s, %(key_sha256)s, %(pools)s, %(contact_fields)s, %(schema_version)s,
    %(rate_capacity)s, %(rate_per_second)s, %(rate_capacity)s
)
ON CONFLICT (name) DO NOTHING
RETURNING id;
