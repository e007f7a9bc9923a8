-- Follower observations of the cards' profiles, for growth signals.
SELECT link.card_id, observation.profile_id, observation.observed_at, observation.followers
  FROM execution.card_profiles AS link
  JOIN social.profile_observations AS observation ON observation.profile_id = link.profile_id
 WHERE link.card_id = ANY(%(card_ids)b::uuid[]) AND observation.followers IS NOT NULL;
