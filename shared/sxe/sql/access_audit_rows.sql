-- Audit rows about the given subjects (cards, bundles), in chain order; ids only, no detail.
SELECT id, seq, at, action, subject
  FROM ops.audit_log
 WHERE subject = ANY(%(subjects)s)
 ORDER BY seq;
