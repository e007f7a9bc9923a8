-- Turn a reservation into spend at the provider's actual cost; a failed call settles at 0.
-- Rows are locked in scope order, the same order as budgets_reserve, to avoid deadlocks.
WITH locked AS (
    SELECT scope, period
      FROM ops.budgets
     WHERE scope = ANY(%(scopes)s) AND period = %(period)s
     ORDER BY scope
       FOR UPDATE
)
UPDATE ops.budgets AS budget
   SET reserved_credits = budget.reserved_credits - %(reserved)s,
       spent_credits = budget.spent_credits + %(spent)s
  FROM locked
 WHERE budget.scope = locked.scope AND budget.period = locked.period;
