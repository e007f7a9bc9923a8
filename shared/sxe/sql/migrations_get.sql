SELECT version, name, sha256 FROM sxe_meta.schema_migrations WHERE version = %(version)s;
