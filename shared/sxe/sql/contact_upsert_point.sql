INSERT INTO contact.contact_points (
    contact_id, kind, value, value_sha256, status, line_type, dnc_status, scrubbed_at,
    source, adapter_version, simulated
) VALUES (
    %(contact_id)s, %(kind)s, %(value)s, %(value_sha256)s, %(status)s, %(line_type)s, %(dnc_status)s,
    %(scrubbed_at)s, %(source)s, %(adapter_version)s, %(simulated)s
)
ON CONFLICT (contact_id, kind, value_sha256) DO UPDATE
   SET status = EXCLUDED.status, line_type = EXCLUDED.line_type, dnc_status = EXCLUDED.dnc_status,
       scrubbed_at = EXCLUDED.scrubbed_at, last_seen_at = clock_timestamp();
