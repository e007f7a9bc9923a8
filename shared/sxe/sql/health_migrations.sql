SELECT version, sha256 FROM sxe_meta.schema_migrations ORDER BY version;
