-- The chain trigger fills seq, prev_hash, at and row_hash.
INSERT INTO ops.audit_log (actor, action, subject, detail, payload_sha256, prev_hash, row_hash)
VALUES (%(actor)s, %(action)s, %(subject)s, %(detail)s, %(payload_sha256)s, '', '');
