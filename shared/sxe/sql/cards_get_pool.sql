SELECT name, intent FROM execution.pools WHERE name = %(name)s;
