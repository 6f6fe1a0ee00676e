"""Infrastructure under everything: the database, errors, limits, the clock, translation."""
