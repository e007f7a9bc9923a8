-- Keep a claimed delivery's records as received, for its normalize job. Runs as sxe_api,
-- which may insert here but not read back.
INSERT INTO intake.webhook_records (batch_id, records) VALUES (%(id)s, %(records)s);
