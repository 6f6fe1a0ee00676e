"""The planning meeting: the filtered map, counts, coverage, changes, print and exports."""
