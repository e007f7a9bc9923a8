DELETE FROM execution.tribes WHERE pool = %(pool)s;
