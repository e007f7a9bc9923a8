-- Signed webhook deliveries. One row per (source, webhook id): a redelivery, or two
-- deliveries racing, hit the unique key and store nothing twice. The records are
-- kept with their contact points redacted; the normalize job reads them from here.
-- `id` is also the id of the delivery's social.ingest_batches row, which the
-- quarantine rows and stored raw records point to. The key is checked at commit,
-- so the delivery row can be claimed before the batch row exists.

CREATE TABLE social.webhook_batches (
    id              uuid PRIMARY KEY
                    REFERENCES social.ingest_batches (id) DEFERRABLE INITIALLY DEFERRED,
    source          text NOT NULL,
    webhook_id      text NOT NULL,
    format          text NOT NULL,
    pool            text NOT NULL,
    body_sha256     text NOT NULL CHECK (body_sha256 ~ '^[0-9a-f]{64}$'),
    records         jsonb NOT NULL,
    record_count    integer NOT NULL CHECK (record_count >= 0),
    accepted        integer NOT NULL CHECK (accepted >= 0),
    quarantined     integer NOT NULL CHECK (quarantined >= 0),
    sent_at         timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    normalized_at   timestamptz,
    UNIQUE (source, webhook_id)
);

-- The webhook runs as sxe_api: it stores the batch, quarantines invalid records,
-- enqueues the normalize job and audits, and does nothing else.
GRANT SELECT, INSERT ON social.webhook_batches TO sxe_api;
GRANT SELECT, UPDATE ON social.webhook_batches TO sxe_worker;
GRANT SELECT ON ops.jobs TO sxe_api;
