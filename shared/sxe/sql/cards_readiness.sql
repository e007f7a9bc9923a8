SELECT readiness FROM execution.lead_cards WHERE id = %(card_id)s;
