SELECT id, pool, readiness, readiness_reason, ruleset_version, person_id, merged_into, language, signals,
       created_at, updated_at
  FROM execution.lead_cards
 WHERE id = %(card_id)s;
