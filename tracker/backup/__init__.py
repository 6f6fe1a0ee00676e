"""Backups of the whole tracker (database and photos) into one folder, and restores from it."""
