INSERT INTO ops.budgets (scope, period, limit_credits)
VALUES (%(scope)s, %(period)s, %(limit_credits)s)
ON CONFLICT (scope, period) DO UPDATE
   SET limit_credits = greatest(EXCLUDED.limit_credits, budgets.reserved_credits + budgets.spent_credits);
