-- The card's profiles changed: its labels no longer describe it and must be recomputed.
UPDATE execution.lead_cards
   SET ruleset_version = NULL, updated_at = clock_timestamp()
 WHERE id = ANY(%(card_ids)s);
