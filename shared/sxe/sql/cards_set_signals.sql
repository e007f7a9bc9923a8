UPDATE execution.lead_cards
   SET language = %(language)s, signals = %(signals)s
 WHERE id = %(card_id)s;
