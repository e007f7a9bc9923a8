-- The record of applied migrations lives outside the tier schemas so it exists before them.
CREATE SCHEMA IF NOT EXISTS sxe_meta;
CREATE TABLE IF NOT EXISTS sxe_meta.schema_migrations (
    version     text PRIMARY KEY,
    name        text NOT NULL,
    sha256      text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
