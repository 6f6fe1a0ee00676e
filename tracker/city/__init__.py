"""Aso City's own geography: its boundary and named places."""
