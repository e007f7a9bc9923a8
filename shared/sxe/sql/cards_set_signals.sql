-- Element i of the three arrays is the bio language and the signals of one card.
UPDATE execution.lead_cards AS card
   SET language = given.language, signals = given.signals
  FROM unnest(%(card_ids)b::uuid[], %(languages)b::text[], %(signals)b::jsonb[]) AS given (card_id, language, signals)
 WHERE card.id = given.card_id;
