INSERT INTO ops.suppressions (identifier_hmac, kind, request_id)
SELECT hmac, kind, %(request_id)s
  FROM unnest(%(hmacs)s::text[], %(kinds)s::text[]) AS entry (hmac, kind)
ON CONFLICT (identifier_hmac) DO NOTHING;
