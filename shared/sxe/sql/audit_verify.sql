-- Walk the chain in order and return the first row whose link or hash does not hold.
WITH chain AS (
    SELECT seq, prev_hash, row_hash,
           lag(row_hash, 1, repeat('0', 64)) OVER (ORDER BY seq) AS expected_prev,
           lag(seq, 1, 0::bigint) OVER (ORDER BY seq) AS previous_seq,
           ops.audit_row_hash(prev_hash, seq, at, actor, action, subject, detail, payload_sha256) AS expected_hash
      FROM ops.audit_log
)
SELECT seq,
       CASE
           WHEN previous_seq <> seq - 1 THEN 'missing row before this one'
           WHEN prev_hash <> expected_prev THEN 'prev_hash does not match the previous row'
           ELSE 'row_hash does not match the row content'
       END AS problem,
       (SELECT count(*) FROM ops.audit_log) AS rows_checked
  FROM chain
 WHERE previous_seq <> seq - 1 OR prev_hash <> expected_prev OR row_hash <> expected_hash
 ORDER BY seq
 LIMIT 1;
