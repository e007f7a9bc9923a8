-- sxe: run-as-session-user
-- Runtime roles. Roles are cluster-wide, so each one is created only if missing.
--   sxe_migrator owns every schema and table; no runtime role owns anything.
--   sxe_api      ingests, reads cards and issues URLs; it never sees the contact schema.
--   sxe_worker   normalizes, enriches and builds bundles; the only writer of contact.
-- Login users are made by the operator and granted one of these roles.

DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['sxe_migrator', 'sxe_api', 'sxe_worker'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', role_name);
        END IF;
    END LOOP;
END
$$;

-- The session user runs later migrations as sxe_migrator and the pipeline stages as
-- the runtime roles (SET LOCAL ROLE), so it needs membership in each.
GRANT sxe_migrator, sxe_api, sxe_worker TO CURRENT_USER;

DO $$
BEGIN
    EXECUTE format('GRANT CREATE, CONNECT ON DATABASE %I TO sxe_migrator', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO sxe_api, sxe_worker', current_database());
END
$$;
