-- Apollo delivers revealed phone numbers later, to the enrich/callback web function.
-- Runs as sxe_migrator, which owns everything.

-- One row per people/match call that Apollo accepted with a webhook_url. Apollo's
-- request_id is a signed 64-bit integer and is the only key a delivery carries.
CREATE TABLE ops.apollo_phone_requests (
    request_id          bigint PRIMARY KEY,
    card_id             uuid NOT NULL REFERENCES execution.lead_cards (id) ON DELETE CASCADE,
    provider_person_id  text,
    adapter_version     text NOT NULL,
    simulated           boolean NOT NULL DEFAULT false,
    requested_at        timestamptz NOT NULL DEFAULT now(),
    delivered_at        timestamptz
);

-- Apollo retries a delivery it thinks failed. The first delivery per request_id is
-- written; later ones find this row and change nothing. Only ids, a hash and a count.
CREATE TABLE ops.apollo_callback_deliveries (
    request_id   bigint PRIMARY KEY,
    body_sha256  text NOT NULL CHECK (body_sha256 ~ '^[0-9a-f]{64}$'),
    phones       integer NOT NULL CHECK (phones >= 0),
    received_at  timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE, DELETE ON ops.apollo_phone_requests TO sxe_worker;
GRANT SELECT, INSERT, DELETE ON ops.apollo_callback_deliveries TO sxe_worker;
GRANT SELECT ON ops.apollo_callback_deliveries TO sxe_analyst;
