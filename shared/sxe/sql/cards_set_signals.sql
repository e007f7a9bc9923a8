-- Element i of the three arrays is the bio language and the signals of one card.
UPDATE execution.lead_cards AS card
   SET language = given.language, signals = given.signals
  FROM unnest(%(card_ids)s::uuid[], %(languages)s::text[], %(signals)s::jsonb[]) AS given (card_id, language, signals)
 WHERE card.id = given.card_id;
