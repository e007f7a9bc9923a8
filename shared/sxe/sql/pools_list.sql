SELECT name FROM execution.pools ORDER BY name;
