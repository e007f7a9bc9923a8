SELECT scope, limit_credits - reserved_credits - spent_credits AS remaining, spent_credits, reserved_credits, limit_credits
  FROM ops.budgets
 WHERE scope = ANY(%(scopes)s) AND period = %(period)s;
