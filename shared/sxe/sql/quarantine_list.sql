-- The newest quarantined records, optionally of one kind and of source files containing
-- %(source)s. The payload, already redacted, only when asked for.
SELECT id, created_at, kind, format, source_file, location, reason, raw_sha256,
       CASE WHEN %(with_payload)s THEN payload END AS payload
  FROM ops.quarantine
 WHERE (%(kind)s::text IS NULL OR kind = %(kind)s)
   AND (%(source)s::text IS NULL OR strpos(source_file, %(source)s) > 0)
 ORDER BY created_at DESC, id DESC
 LIMIT %(limit)s;
