SELECT kind, value, score, rule_id, ruleset_version, evidence
  FROM execution.card_labels
 WHERE card_id = %(card_id)s
 ORDER BY CASE kind WHEN 'persona' THEN 0 WHEN 'tribe' THEN 1 ELSE 2 END, score DESC, value;
