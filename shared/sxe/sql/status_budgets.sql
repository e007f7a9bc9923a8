SELECT scope, period, limit_credits, reserved_credits, spent_credits
  FROM ops.budgets
 WHERE period = %(period)s
 ORDER BY scope;
