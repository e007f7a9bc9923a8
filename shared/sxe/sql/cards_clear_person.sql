UPDATE execution.lead_cards SET person_id = NULL WHERE id = ANY(%(card_ids)s);
