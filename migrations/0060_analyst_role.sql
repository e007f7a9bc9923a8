-- sxe: run-as-session-user
-- The read-only analyst role: reads Tier 1, Tier 3 and ops aggregates, never the contact schema.
-- Like the other roles it is cluster-wide, created only if missing, and owns nothing.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sxe_analyst') THEN
        CREATE ROLE sxe_analyst NOLOGIN NOINHERIT;
    END IF;
END
$$;

GRANT sxe_analyst TO CURRENT_USER;

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO sxe_analyst', current_database());
END
$$;
