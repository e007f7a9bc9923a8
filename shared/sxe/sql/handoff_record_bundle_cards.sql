INSERT INTO ops.bundle_cards (bundle_id, card_id)
SELECT %(bundle_id)s, card_id FROM unnest(%(card_ids)s::uuid[]) AS card_id;
