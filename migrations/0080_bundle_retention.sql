-- Retention deletes expired bundles: their objects from the store, then their rows and
-- card index, as sxe_worker. Runs as sxe_migrator.
GRANT DELETE ON ops.bundles, ops.bundle_cards TO sxe_worker;

-- Retention finds expired bundles by expiry.
CREATE INDEX bundles_expires_at ON ops.bundles (expires_at) WHERE expires_at IS NOT NULL;
