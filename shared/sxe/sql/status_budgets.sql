-- This period's budgets. With a pool, other pools' budgets are left out, and the
-- provider budgets, which every pool draws on, stay.
SELECT scope, period, limit_credits, reserved_credits, spent_credits
  FROM ops.budgets
 WHERE period = %(period)s
   AND (%(pool)s::text IS NULL OR scope NOT LIKE 'pool:%%' OR scope = 'pool:' || %(pool)s)
 ORDER BY scope;
