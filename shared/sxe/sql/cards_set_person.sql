UPDATE execution.lead_cards AS card
   SET person_id = new.person_id, updated_at = clock_timestamp()
  FROM unnest(%(card_ids)s::uuid[], %(person_ids)s::uuid[]) AS new (card_id, person_id)
 WHERE card.id = new.card_id AND card.person_id IS DISTINCT FROM new.person_id;
