UPDATE execution.lead_cards SET contact_id = NULL, updated_at = clock_timestamp()
 WHERE contact_id = ANY(%(contact_ids)s);
