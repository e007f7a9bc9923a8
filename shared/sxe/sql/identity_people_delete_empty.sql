-- People left without profiles after a merge. Cards keep their history: person_id becomes NULL.
DELETE FROM execution.people AS person
 WHERE NOT EXISTS (SELECT 1 FROM execution.person_profiles AS member WHERE member.person_id = person.id)
RETURNING id;
