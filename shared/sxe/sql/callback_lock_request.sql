SELECT r.request_id, r.card_id, r.provider_person_id, r.adapter_version, r.simulated, c.contact_id, c.readiness
  FROM ops.apollo_phone_requests r
  JOIN execution.lead_cards c ON c.id = r.card_id
 WHERE r.request_id = %(request_id)s
   FOR UPDATE OF r, c;
