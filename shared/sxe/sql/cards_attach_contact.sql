UPDATE execution.lead_cards
   SET contact_id = %(contact_id)s, updated_at = clock_timestamp()
 WHERE id = %(card_id)s;
