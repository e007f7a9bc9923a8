-- Every enrichment decision of a card, oldest first.
SELECT id, provider, decision, reason, bridge, job_id, simulated, decided_at
  FROM ops.enrichment_decisions
 WHERE card_id = %(card_id)s
 ORDER BY decided_at, id;
