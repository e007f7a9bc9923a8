-- GET handoff/merges pages through the readiness events that move a card to `merged`, in
-- time order. Other events far outnumber them, so they get an index of their own.
CREATE INDEX events_card_merged ON ops.events (created_at, subject_id)
    WHERE type = 'card.readiness_changed' AND data ->> 'readiness' = 'merged';
