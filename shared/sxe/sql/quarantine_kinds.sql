-- Quarantined records per kind, of source files containing %(source)s when given.
SELECT kind, count(*)::integer AS records
  FROM ops.quarantine
 WHERE (%(source)s::text IS NULL OR strpos(source_file, %(source)s) > 0)
 GROUP BY kind
 ORDER BY records DESC, kind;
