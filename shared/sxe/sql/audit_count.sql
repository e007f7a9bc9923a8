SELECT count(*) AS rows_checked FROM ops.audit_log;
