SELECT version, name, sha256, applied_at FROM sxe_meta.schema_migrations ORDER BY version;
