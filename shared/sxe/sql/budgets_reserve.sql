-- Reserve on every scope or on none: the CHECK on reserved + spent <= limit makes
-- an overdraw fail, and the row lock serializes concurrent reservations.
-- Rows are locked in scope order first, so two reservations over the same scopes
-- never wait on each other in opposite orders (a deadlock).
WITH locked AS (
    SELECT scope, period
      FROM ops.budgets
     WHERE scope = ANY(%(scopes)s) AND period = %(period)s
     ORDER BY scope
       FOR UPDATE
)
UPDATE ops.budgets AS budget
   SET reserved_credits = budget.reserved_credits + %(credits)s
  FROM locked
 WHERE budget.scope = locked.scope AND budget.period = locked.period
   AND budget.reserved_credits + budget.spent_credits + %(credits)s <= budget.limit_credits
RETURNING budget.scope;
