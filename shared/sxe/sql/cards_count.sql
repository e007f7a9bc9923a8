SELECT readiness, count(*) AS cards FROM execution.lead_cards WHERE pool = %(pool)s GROUP BY readiness;
