DELETE FROM execution.card_labels WHERE card_id = %(card_id)s;
