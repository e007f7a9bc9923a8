-- ops.events types now carry the same dotted names as the log events for the same
-- facts. Rows written under the earlier names are renamed, so readers need to know
-- only one name per fact.
UPDATE ops.events
   SET type = CASE type
                  WHEN 'ingested' THEN 'file.ingested'
                  WHEN 'normalized' THEN 'profiles.normalized'
                  WHEN 'tagged' THEN 'cards.tagged'
                  WHEN 'enrichment_decided' THEN 'enrichment.decided'
                  WHEN 'enriched' THEN 'card.enriched'
                  WHEN 'readiness_changed' THEN 'card.readiness_changed'
                  WHEN 'handed_off' THEN 'bundle.written'
                  WHEN 'tombstone' THEN 'card.erased'
              END
 WHERE type IN ('ingested', 'normalized', 'tagged', 'enrichment_decided', 'enriched',
                'readiness_changed', 'handed_off', 'tombstone');
