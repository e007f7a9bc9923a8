-- How many lookups of a provider are remembered, expired or not, and how many matched.
SELECT count(*) AS lookups, count(*) FILTER (WHERE outcome = 'matched') AS matched
  FROM ops.lookup_memory
 WHERE provider = %(provider)s;
