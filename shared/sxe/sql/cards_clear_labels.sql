DELETE FROM execution.card_labels WHERE card_id = ANY(%(card_ids)b::uuid[]);
