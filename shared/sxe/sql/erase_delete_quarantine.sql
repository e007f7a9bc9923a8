-- Quarantined records keep the redacted source record. One that names the person by handle
-- (with or without "@") or platform user id, at any depth of the payload, is theirs. A format
-- named after another platform cannot hold this platform's handle, so it is left alone.
WITH wanted AS (
    SELECT platform, value FROM unnest(%(platforms)s::text[], %(values)s::text[]) AS wanted (platform, value)
), gone AS (
    DELETE FROM ops.quarantine AS held
     WHERE held.payload IS NOT NULL
       AND EXISTS (
           SELECT 1
             FROM jsonb_path_query(held.payload, 'strict $.**') AS found (item)
             JOIN wanted ON lower(ltrim(found.item #>> '{}', '@')) = wanted.value
            WHERE jsonb_typeof(found.item) IN ('string', 'number')
              AND (split_part(coalesce(held.format, ''), '-', 1) NOT IN ('x', 'threads', 'tiktok', 'instagram')
                   OR split_part(held.format, '-', 1) = wanted.platform)
       )
    RETURNING 1
)
SELECT count(*) AS removed FROM gone;
