SELECT to_regclass('ops.audit_log') IS NOT NULL AS ready;
