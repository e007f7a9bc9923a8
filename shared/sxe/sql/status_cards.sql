SELECT readiness, count(*) AS cards
  FROM execution.lead_cards
 WHERE %(pool)s::text IS NULL OR pool = %(pool)s
 GROUP BY readiness
 ORDER BY readiness;
