-- GET handoff/erasures pages through the card.erased events in time order. Events of every
-- other type far outnumber them, so they get an index of their own.
CREATE INDEX events_card_erased ON ops.events (created_at, subject_id) WHERE type = 'card.erased';
