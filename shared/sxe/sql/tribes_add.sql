INSERT INTO execution.tribes (pool, slug, name, top_terms, card_count)
VALUES (%(pool)s, %(slug)s, %(name)s, %(top_terms)s, %(card_count)s);
