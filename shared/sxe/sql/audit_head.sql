SELECT seq, row_hash FROM ops.audit_log ORDER BY seq DESC LIMIT 1;
