-- Insert the labels of many cards in one statement: element i of every array is one label.
INSERT INTO execution.card_labels (card_id, kind, value, score, rule_id, ruleset_version, evidence)
SELECT card_id, kind, value, score, rule_id, ruleset_version, evidence
  FROM unnest(
        %(card_ids)b::uuid[], %(kinds)b::text[], %(values)b::text[], %(scores)b::real[],
        %(rule_ids)b::text[], %(ruleset_versions)b::text[], %(evidence)b::jsonb[]
       ) AS label (card_id, kind, value, score, rule_id, ruleset_version, evidence);
