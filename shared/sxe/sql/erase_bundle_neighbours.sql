-- Cards of other people that went out in the given bundles and are still marked handed off,
-- unless a bundle that is neither among them nor revoked nor expired still carries the card.
SELECT DISTINCT card.id
  FROM ops.bundle_cards AS link
  JOIN execution.lead_cards AS card ON card.id = link.card_id
 WHERE link.bundle_id = ANY(%(bundle_ids)s)
   AND card.readiness = 'handed_off'
   AND NOT card.id = ANY(%(card_ids)s)
   AND NOT EXISTS (
        SELECT 1
          FROM ops.bundle_cards AS other
          JOIN ops.bundles AS bundle ON bundle.id = other.bundle_id
         WHERE other.card_id = card.id
           AND NOT other.bundle_id = ANY(%(bundle_ids)s)
           AND bundle.revoked_at IS NULL
           AND (bundle.expires_at IS NULL OR bundle.expires_at > now())
   )
 ORDER BY card.id;
