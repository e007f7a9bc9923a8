-- The full readiness state machine of a lead card. `held` becomes `disqualified`,
-- its closest meaning: the card is excluded by policy until its data changes.

ALTER TABLE execution.lead_cards DROP CONSTRAINT lead_cards_readiness_check;

UPDATE execution.lead_cards SET readiness = 'disqualified' WHERE readiness = 'held';

ALTER TABLE execution.lead_cards ADD CONSTRAINT lead_cards_readiness_check CHECK (readiness IN (
    'new', 'tagged', 'qualified', 'disqualified', 'enrichment_queued', 'enriched', 'no_match',
    'enrichment_failed', 'ready', 'handed_off', 'stale', 'suppressed'
));

CREATE INDEX lead_cards_pool_readiness ON execution.lead_cards (pool, readiness, id);

-- Whether the provider behind a decision was the local simulator, for the handoff provenance.
ALTER TABLE ops.enrichment_decisions ADD COLUMN simulated boolean NOT NULL DEFAULT false;
