-- Audit rows of a period [since, until), in chain order.
SELECT seq, at, actor, action, subject, detail, payload_sha256, prev_hash, row_hash
  FROM ops.audit_log
 WHERE at >= %(since)s AND at < %(until)s
 ORDER BY seq;
