INSERT INTO ops.enrichment_decisions (card_id, provider, decision, reason, fingerprint, job_id, simulated, bridge)
VALUES (%(card_id)s, %(provider)s, %(decision)s, %(reason)s, %(fingerprint)s, %(job_id)s, %(simulated)s, %(bridge)s);
