-- An access request lists the audit rows about a person's cards and bundles by subject.
CREATE INDEX audit_log_subject ON ops.audit_log (subject);
