UPDATE execution.lead_cards
   SET ruleset_version = %(ruleset_version)s, updated_at = clock_timestamp()
 WHERE id = ANY(%(card_ids)b::uuid[]);
