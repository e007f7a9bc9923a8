-- Hand over and clear the reservation an abandoned attempt left on its key.
UPDATE ops.idempotency_keys AS key_row
   SET reserved_credits = 0
  FROM (SELECT key, reserved_credits, budget_scopes, budget_period
          FROM ops.idempotency_keys
         WHERE key = %(key)s
           FOR UPDATE) AS before
 WHERE key_row.key = before.key AND before.reserved_credits > 0
RETURNING before.reserved_credits, before.budget_scopes, before.budget_period;
