-- Retention deletes bio sightings by `seen_at`; this index keeps each batch from
-- scanning the whole table. Runs as sxe_migrator, which owns everything.
CREATE INDEX bio_sightings_seen_at ON contact.bio_sightings (seen_at);
