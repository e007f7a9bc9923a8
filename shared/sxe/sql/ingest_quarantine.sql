-- The same bad record seen again is not quarantined twice.
INSERT INTO ops.quarantine (
    batch_id, source_file, location, format, kind, reason, content_hash, raw_sha256, payload
) VALUES (
    %(batch_id)s, %(source_file)s, %(location)s, %(format)s, %(kind)s, %(reason)s, %(content_hash)s,
    %(raw_sha256)s, %(payload)s
)
ON CONFLICT (content_hash, kind) DO NOTHING
RETURNING id;
