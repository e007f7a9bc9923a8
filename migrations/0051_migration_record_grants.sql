-- sxe: run-as-session-user
-- Readiness checks compare the applied migrations with the deployed files, so the
-- runtime roles may read the record of applied migrations (and nothing else in sxe_meta).
GRANT USAGE ON SCHEMA sxe_meta TO sxe_api, sxe_worker;
GRANT SELECT ON sxe_meta.schema_migrations TO sxe_api, sxe_worker;
