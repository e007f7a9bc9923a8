-- Start a pull, or resume it: an unfinished pull keeps its cursor, a finished one starts over.
INSERT INTO ops.pull_cursors (connector, pull_key)
VALUES (%(connector)s, %(pull_key)s)
ON CONFLICT (connector, pull_key) DO UPDATE
   SET cursor = CASE WHEN pull_cursors.done THEN '{}'::jsonb ELSE pull_cursors.cursor END,
       pages = CASE WHEN pull_cursors.done THEN 0 ELSE pull_cursors.pages END,
       records = CASE WHEN pull_cursors.done THEN 0 ELSE pull_cursors.records END,
       started_at = CASE WHEN pull_cursors.done THEN now() ELSE pull_cursors.started_at END,
       done = false,
       updated_at = now()
RETURNING cursor, pages, records;
