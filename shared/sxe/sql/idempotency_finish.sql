UPDATE ops.idempotency_keys SET state = %(state)s, completed_at = clock_timestamp() WHERE key = %(key)s;
