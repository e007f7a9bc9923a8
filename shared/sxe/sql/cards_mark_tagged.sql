UPDATE execution.lead_cards
   SET ruleset_version = %(ruleset_version)s, updated_at = clock_timestamp()
 WHERE id = %(card_id)s;
