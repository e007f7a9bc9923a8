INSERT INTO execution.lead_cards (id, pool, person_id)
SELECT card_id, %(pool)s, person_id
  FROM unnest(%(card_ids)s::uuid[], %(person_ids)s::uuid[]) AS new (card_id, person_id);
