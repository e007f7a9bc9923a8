-- Card rows of queue messages, for cards still released to consumers.
SELECT card.*
  FROM contact.handoff_cards AS card
 WHERE card.card_id = ANY (%(card_ids)s::uuid[]) AND card.readiness IN ('ready', 'handed_off');
