-- The deployment environment (dev, staging, production) a database belongs to.
-- `sxe migrate` writes it from SXE_ENV, and functions compare it with their own
-- SXE_ENV before they touch any data, so a staging deploy that points at the
-- production database fails instead of mixing the two.
CREATE TABLE ops.environment (
    -- At most one row: the primary key only accepts true.
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    name         text NOT NULL CHECK (name IN ('dev', 'staging', 'production')),
    recorded_at  timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT ON ops.environment TO sxe_worker, sxe_api;
