"""Speed figures, printed as name=value lines by `make bench`."""
