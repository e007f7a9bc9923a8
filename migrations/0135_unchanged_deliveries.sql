-- Raw deliveries whose normalized profile equalled the stored one, kept by content hash only.
--
-- Such a record stores no raw record and no observation, so without this table a
-- re-run of the same file normalized it again just to find it unchanged. Its hash
-- here makes it an exact redelivery like any stored raw record. The row goes with
-- its profile (erasure, retention) and expires with Tier 1.

CREATE TABLE social.unchanged_deliveries (
    content_hash  text PRIMARY KEY CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    profile_id    uuid NOT NULL REFERENCES social.profiles (id) ON DELETE CASCADE,
    received_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX unchanged_deliveries_profile ON social.unchanged_deliveries (profile_id);
CREATE INDEX unchanged_deliveries_received_at ON social.unchanged_deliveries (received_at);

GRANT SELECT, INSERT ON social.unchanged_deliveries TO sxe_api;
-- UPDATE only for the row locks of retention (SELECT ... FOR UPDATE); nothing updates a row.
GRANT SELECT, INSERT, UPDATE, DELETE ON social.unchanged_deliveries TO sxe_worker;
