UPDATE execution.lead_cards
   SET ruleset_version = %(ruleset_version)s,
       readiness = CASE WHEN readiness = 'new' THEN 'tagged' ELSE readiness END,
       updated_at = clock_timestamp()
 WHERE id = %(card_id)s;
