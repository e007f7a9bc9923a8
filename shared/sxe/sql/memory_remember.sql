INSERT INTO ops.lookup_memory (fingerprint, provider, outcome, contact_id, remembered_until)
VALUES (%(fingerprint)s, %(provider)s, %(outcome)s, %(contact_id)s,
        clock_timestamp() + make_interval(days => %(days)s))
ON CONFLICT (fingerprint) DO UPDATE
   SET outcome = EXCLUDED.outcome, contact_id = EXCLUDED.contact_id,
       remembered_until = EXCLUDED.remembered_until, created_at = clock_timestamp();
