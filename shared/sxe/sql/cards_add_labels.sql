-- Insert the labels of many cards in one statement: element i of every array is one label.
INSERT INTO execution.card_labels (card_id, kind, value, score, rule_id, ruleset_version, evidence)
SELECT card_id, kind, value, score, rule_id, ruleset_version, evidence
  FROM unnest(
        %(card_ids)s::uuid[], %(kinds)s::text[], %(values)s::text[], %(scores)s::real[],
        %(rule_ids)s::text[], %(ruleset_versions)s::text[], %(evidence)s::jsonb[]
       ) AS label (card_id, kind, value, score, rule_id, ruleset_version, evidence);
