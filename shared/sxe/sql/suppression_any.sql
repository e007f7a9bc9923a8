SELECT 1 FROM ops.suppressions LIMIT 1;
