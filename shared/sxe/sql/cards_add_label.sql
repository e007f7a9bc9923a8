INSERT INTO execution.card_labels (card_id, kind, value, score, rule_id, ruleset_version, evidence)
VALUES (%(card_id)s, %(kind)s, %(value)s, %(score)s, %(rule_id)s, %(ruleset_version)s, %(evidence)s);
