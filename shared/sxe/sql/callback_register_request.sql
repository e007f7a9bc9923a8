-- A repeated registration (a retried job) keeps the first row.
INSERT INTO ops.apollo_phone_requests (request_id, card_id, provider_person_id, adapter_version, simulated)
VALUES (%(request_id)s, %(card_id)s, %(provider_person_id)s, %(adapter_version)s, %(simulated)s)
ON CONFLICT (request_id) DO NOTHING;
