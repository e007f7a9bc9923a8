-- Append-only, hash-chained audit log. Each row's hash covers the previous row's
-- hash and its own content, so an edit or a deletion breaks every later link.

CREATE TABLE ops.audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Chain position, given under the append lock. Identity values are drawn before
    -- the lock is taken, so `id` order can differ from commit order; `seq` cannot.
    seq             bigint NOT NULL UNIQUE,
    at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor           text NOT NULL,
    action          text NOT NULL,
    subject         text,
    detail          jsonb NOT NULL DEFAULT '{}',
    payload_sha256  text CHECK (payload_sha256 ~ '^[0-9a-f]{64}$'),
    prev_hash       text NOT NULL,
    row_hash        text NOT NULL
);

CREATE FUNCTION ops.audit_row_hash(
    prev_hash text, seq bigint, at timestamptz, actor text, action text,
    subject text, detail jsonb, payload_sha256 text
) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT encode(sha256(convert_to(concat_ws('|',
        prev_hash, seq::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
        actor, action, coalesce(subject, ''), detail::text, coalesce(payload_sha256, '')
    ), 'UTF8')), 'hex')
$$;

-- Runs as the owner so that runtime roles, which may only INSERT, can still chain.
-- The transaction-scoped advisory lock makes concurrent writers append one at a time.
CREATE FUNCTION ops.audit_log_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, ops
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('ops.audit_log'));
    SELECT coalesce(max_row.seq, 0) + 1, coalesce(max_row.row_hash, repeat('0', 64))
      INTO NEW.seq, NEW.prev_hash
      FROM (SELECT NULL) AS anchor
      LEFT JOIN LATERAL (SELECT seq, row_hash FROM ops.audit_log ORDER BY seq DESC LIMIT 1) AS max_row ON true;
    NEW.at := clock_timestamp();
    NEW.row_hash := ops.audit_row_hash(
        NEW.prev_hash, NEW.seq, NEW.at, NEW.actor, NEW.action, NEW.subject, NEW.detail, NEW.payload_sha256
    );
    RETURN NEW;
END
$$;

CREATE FUNCTION ops.audit_log_reject_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'ops.audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON ops.audit_log
    FOR EACH ROW EXECUTE FUNCTION ops.audit_log_chain();
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON ops.audit_log
    FOR EACH ROW EXECUTE FUNCTION ops.audit_log_reject_change();
-- TRUNCATE skips row triggers, so it needs a statement trigger of its own.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON ops.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION ops.audit_log_reject_change();
