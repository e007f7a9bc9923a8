UPDATE ops.idempotency_keys
   SET reserved_credits = %(credits)s, budget_scopes = %(scopes)s, budget_period = %(period)s
 WHERE key = %(key)s;
