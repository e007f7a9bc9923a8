-- Open an ingest batch for the records of one file, import, pull page or run, for one audience pool.
INSERT INTO social.ingest_batches (run_id, source_name, source_file, format, collected_at, pool)
VALUES (%(run_id)s, %(source_name)s, %(source_file)s, %(format)s, %(collected_at)s, %(pool)s)
RETURNING id;
