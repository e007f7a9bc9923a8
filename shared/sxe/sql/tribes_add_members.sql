INSERT INTO execution.card_tribes (card_id, pool, slug, score, terms)
SELECT card_id, %(pool)s, %(slug)s, score, terms
  FROM unnest(%(card_ids)s::uuid[], %(scores)s::real[], %(terms)s::jsonb[]) AS member (card_id, score, terms);
