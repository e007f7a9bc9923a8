UPDATE ops.api_consumers SET revoked_at = clock_timestamp() WHERE name = %(name)s AND revoked_at IS NULL
RETURNING id;
