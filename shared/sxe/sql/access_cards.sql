-- The given lead cards, each with its labels and the profiles linked to it.
SELECT to_jsonb(card) AS card,
       coalesce((SELECT jsonb_agg(to_jsonb(label) - 'card_id' ORDER BY label.kind, label.value)
                   FROM execution.card_labels AS label
                  WHERE label.card_id = card.id), '[]') AS labels,
       coalesce((SELECT jsonb_agg(link.profile_id ORDER BY link.profile_id)
                   FROM execution.card_profiles AS link
                  WHERE link.card_id = card.id), '[]') AS profile_ids
  FROM execution.lead_cards AS card
 WHERE card.id = ANY(%(card_ids)s)
 ORDER BY card.id;
