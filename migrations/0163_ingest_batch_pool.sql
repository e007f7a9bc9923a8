-- The audience pool each ingest batch was stored for. Card building takes an
-- unclaimed profile into a pool only when one of its observations came from a
-- batch of that pool, so profiles imported for one pool stay out of the others.
-- Batches stored before this column keep NULL, which card building reads as
-- "any pool", the behaviour they were stored under.
ALTER TABLE social.ingest_batches ADD COLUMN pool text
    CHECK (pool ~ '^[a-z0-9][a-z0-9_-]{0,62}$');

