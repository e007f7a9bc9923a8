-- The ingest batch of a delivery shares the delivery's id, so quarantine rows and
-- raw records point at the delivery. `pool` is the batch's pool, NULL for an invalid body.
INSERT INTO social.ingest_batches (id, run_id, source_name, source_file, format, collected_at, pool)
VALUES (%(id)s, %(id)s, %(source_name)s, %(source_file)s, %(format)s, %(collected_at)s, %(pool)s);
