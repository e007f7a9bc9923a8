SELECT id, pools FROM ops.api_consumers WHERE name = %(name)s AND revoked_at IS NULL;
