INSERT INTO social.ingest_batches (run_id, source_name, source_file, format, collected_at)
VALUES (%(run_id)s, %(source_name)s, %(source_file)s, %(format)s, %(collected_at)s)
RETURNING id;
