"""Changes residents may be told about, queued in the same transaction as the change itself."""
