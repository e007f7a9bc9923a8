-- The audit chain's last position and hash, kept in one row that every append locks.
--
-- The chain trigger used to read the newest audit row after taking an advisory lock.
-- A REPEATABLE READ transaction reads with the snapshot it took at its first
-- statement, so it could miss a row another writer committed since then and reuse
-- that row's `seq`, which failed on the unique key. Locking a row instead makes a
-- REPEATABLE READ writer that lost the race fail with a serialization error, which
-- callers already retry, and a READ COMMITTED writer wait and read the new head.

CREATE TABLE ops.audit_chain_head (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq        bigint NOT NULL,
    row_hash   text NOT NULL
);

INSERT INTO ops.audit_chain_head (seq, row_hash)
SELECT coalesce(max_row.seq, 0), coalesce(max_row.row_hash, repeat('0', 64))
  FROM (SELECT NULL) AS anchor
  LEFT JOIN LATERAL (SELECT seq, row_hash FROM ops.audit_log ORDER BY seq DESC LIMIT 1) AS max_row ON true;

REVOKE ALL ON ops.audit_chain_head FROM PUBLIC;

CREATE OR REPLACE FUNCTION ops.audit_log_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, ops
AS $$
BEGIN
    SELECT head.seq + 1, head.row_hash
      INTO NEW.seq, NEW.prev_hash
      FROM ops.audit_chain_head AS head
       FOR UPDATE;
    NEW.at := clock_timestamp();
    NEW.row_hash := ops.audit_row_hash(
        NEW.prev_hash, NEW.seq, NEW.at, NEW.actor, NEW.action, NEW.subject, NEW.detail, NEW.payload_sha256
    );
    UPDATE ops.audit_chain_head SET seq = NEW.seq, row_hash = NEW.row_hash;
    RETURN NEW;
END
$$;
