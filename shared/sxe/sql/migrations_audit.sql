-- One `migration.applied` audit row per recorded migration that has none yet, in version order.
INSERT INTO ops.audit_log (actor, action, subject, detail, payload_sha256, prev_hash, row_hash)
SELECT 'sxe_migrator:migrate', 'migration.applied', 'migration:' || applied.version,
       jsonb_build_object('name', applied.name, 'applied_at', applied.applied_at, 'database_user', session_user::text),
       applied.sha256, '', ''
  FROM unnest(%(versions)s::text[], %(names)s::text[], %(sha256s)s::text[], %(applied_ats)s::timestamptz[])
       AS applied (version, name, sha256, applied_at)
 WHERE NOT EXISTS (SELECT 1 FROM ops.audit_log AS audit
                    WHERE audit.action = 'migration.applied' AND audit.subject = 'migration:' || applied.version)
 ORDER BY applied.version;
