-- The call ended and its reservation was settled in the same transaction.
UPDATE ops.idempotency_keys
   SET state = %(state)s, reserved_credits = 0, completed_at = clock_timestamp()
 WHERE key = %(key)s;
