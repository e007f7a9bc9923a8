-- Least-privilege grants. Nothing is granted to PUBLIC; no runtime role owns an object.

REVOKE ALL ON SCHEMA social, contact, execution, ops FROM PUBLIC;

GRANT USAGE ON SCHEMA social, execution, ops TO sxe_api, sxe_worker;
GRANT USAGE ON SCHEMA contact TO sxe_worker;

-- api: ingest into Tier 1, read cards, issue URLs. No access to contact at all.
GRANT SELECT, INSERT, UPDATE ON social.ingest_batches, social.raw_records TO sxe_api;
GRANT SELECT ON social.profiles, social.profile_observations TO sxe_api;
GRANT SELECT ON execution.pools, execution.lead_cards, execution.card_profiles, execution.card_labels TO sxe_api;
GRANT SELECT, INSERT ON ops.quarantine, ops.events TO sxe_api;
GRANT SELECT ON ops.bundles TO sxe_api;
GRANT INSERT ON ops.jobs TO sxe_api;

-- worker: normalize, tag, enrich, hand off. The only role that touches contact.
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA social TO sxe_worker;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA execution TO sxe_worker;
GRANT DELETE ON execution.card_labels TO sxe_worker;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA contact TO sxe_worker;
GRANT SELECT, INSERT, UPDATE ON
    ops.quarantine, ops.jobs, ops.provider_buckets, ops.circuit_breakers, ops.budgets,
    ops.lookup_memory, ops.idempotency_keys, ops.enrichment_decisions, ops.events, ops.bundles
TO sxe_worker;

-- The audit log takes inserts only; the chain trigger reads it as the owner.
GRANT INSERT ON ops.audit_log TO sxe_api, sxe_worker;
