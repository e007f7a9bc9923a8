-- People (Tier 3 identity clusters) and the evidence that links profiles into them.
--
-- A person gathers the Tier 1 profiles of one human or business across platforms,
-- at most one profile per platform. Identity resolution recomputes people from the
-- current profiles on every card build, so a link whose evidence no longer holds is
-- kept with state 'contradicted' and its person may split.

CREATE TABLE execution.people (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One profile belongs to exactly one person; a person without profiles is deleted.
CREATE TABLE execution.person_profiles (
    profile_id  uuid PRIMARY KEY REFERENCES social.profiles (id) ON DELETE CASCADE,
    person_id   uuid NOT NULL REFERENCES execution.people (id) ON DELETE CASCADE
);
CREATE INDEX person_profiles_person ON execution.person_profiles (person_id);

-- One row per pair of profiles (in id order) and signal. `evidence` holds the matched
-- values (a domain, a handle, a normalized display name, a bio cross-link), never an
-- email address or phone number. `state` is 'active' while the evidence holds,
-- 'rejected' when the pair could not be joined (two profiles of one platform), and
-- 'contradicted' once newer profile data no longer shows the evidence.
CREATE TABLE execution.identity_links (
    profile_id        uuid NOT NULL REFERENCES social.profiles (id) ON DELETE CASCADE,
    other_profile_id  uuid NOT NULL REFERENCES social.profiles (id) ON DELETE CASCADE,
    signal            text NOT NULL CHECK (signal IN (
                          'same_website', 'same_link_target', 'same_handle', 'bio_cross_link',
                          'same_display_name')),
    confidence        real NOT NULL CHECK (confidence > 0 AND confidence <= 1),
    evidence          jsonb NOT NULL,
    state             text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'rejected', 'contradicted')),
    reason            text,
    first_seen_at     timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (profile_id, other_profile_id, signal),
    CHECK (profile_id < other_profile_id)
);
CREATE INDEX identity_links_other ON execution.identity_links (other_profile_id);

-- A card is the lead of one person in one pool. `merged_into` names the card that
-- took over the profiles of a card whose person was merged into another.
ALTER TABLE execution.lead_cards
    ADD COLUMN person_id uuid REFERENCES execution.people (id) ON DELETE SET NULL,
    ADD COLUMN merged_into uuid REFERENCES execution.lead_cards (id),
    ADD COLUMN language text,
    ADD COLUMN signals jsonb NOT NULL DEFAULT '{}';
CREATE UNIQUE INDEX lead_cards_pool_person ON execution.lead_cards (pool, person_id)
    WHERE readiness <> 'merged';

ALTER TABLE execution.lead_cards DROP CONSTRAINT lead_cards_readiness_check;
ALTER TABLE execution.lead_cards ADD CONSTRAINT lead_cards_readiness_check CHECK (readiness IN (
    'new', 'tagged', 'qualified', 'disqualified', 'enrichment_queued', 'enriched', 'no_match',
    'enrichment_failed', 'ready', 'handed_off', 'stale', 'suppressed', 'merged'
));

-- Interest communities of a pool, found from co-occurring hashtags, keywords and link
-- domains. Recomputed as a whole per pool; `slug` is stable for the same top terms.
CREATE TABLE execution.tribes (
    pool         text NOT NULL REFERENCES execution.pools (name),
    slug         text NOT NULL,
    name         text NOT NULL,
    top_terms    jsonb NOT NULL,
    card_count   integer NOT NULL CHECK (card_count >= 0),
    computed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pool, slug)
);

CREATE TABLE execution.card_tribes (
    card_id  uuid NOT NULL REFERENCES execution.lead_cards (id) ON DELETE CASCADE,
    pool     text NOT NULL,
    slug     text NOT NULL,
    score    real NOT NULL CHECK (score BETWEEN 0 AND 1),
    terms    jsonb NOT NULL,
    PRIMARY KEY (card_id, slug),
    FOREIGN KEY (pool, slug) REFERENCES execution.tribes (pool, slug) ON DELETE CASCADE
);

-- Grants: the worker resolves identities, builds cards and finds tribes; the api reads.
GRANT SELECT, INSERT, UPDATE, DELETE ON
    execution.people, execution.person_profiles, execution.identity_links,
    execution.tribes, execution.card_tribes
TO sxe_worker;
GRANT DELETE ON execution.card_profiles TO sxe_worker;
GRANT SELECT ON
    execution.people, execution.person_profiles, execution.identity_links,
    execution.tribes, execution.card_tribes
TO sxe_api;
