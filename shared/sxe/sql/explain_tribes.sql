SELECT tribe.slug, tribe.name, member.score, member.terms
  FROM execution.card_tribes AS member
  JOIN execution.tribes AS tribe ON tribe.pool = member.pool AND tribe.slug = member.slug
 WHERE member.card_id = %(card_id)s
 ORDER BY member.score DESC, tribe.slug;
