-- Reserve on every scope or on none: the CHECK on reserved + spent <= limit makes
-- an overdraw fail, and the row lock serializes concurrent reservations.
UPDATE ops.budgets
   SET reserved_credits = reserved_credits + %(credits)s
 WHERE scope = ANY(%(scopes)s) AND period = %(period)s
   AND reserved_credits + spent_credits + %(credits)s <= limit_credits
RETURNING scope;
