-- Quarantine a chunk's rejected records; a record quarantined before is not stored twice.
INSERT INTO ops.quarantine (
    batch_id, source_file, location, format, kind, reason, content_hash, raw_sha256, payload
)
SELECT %(batch_id)s, %(source_file)s, location, format, kind, reason, content_hash, raw_sha256, payload
FROM jsonb_to_recordset(%(records)s::jsonb) AS record (
    location text, format text, kind text, reason text, content_hash text, raw_sha256 text, payload jsonb
)
ON CONFLICT (content_hash, kind) DO NOTHING;
