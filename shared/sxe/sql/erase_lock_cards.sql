-- The cards of the given profiles or contacts, locked so that no enrichment attaches a
-- contact to them while the erasure runs. Locked in id order, so two erasures cannot deadlock.
SELECT card.id, card.contact_id, card.readiness
  FROM execution.lead_cards AS card
 WHERE card.id IN (SELECT link.card_id FROM execution.card_profiles AS link WHERE link.profile_id = ANY(%(profile_ids)s))
    OR card.contact_id = ANY(%(contact_ids)s)
 ORDER BY card.id
   FOR UPDATE;
