-- Turn a reservation into spend at the provider's actual cost; a failed call settles at 0.
UPDATE ops.budgets
   SET reserved_credits = reserved_credits - %(reserved)s,
       spent_credits = spent_credits + %(spent)s
 WHERE scope = ANY(%(scopes)s) AND period = %(period)s;
