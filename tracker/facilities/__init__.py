"""Places the works serve: the GSI designated shelters and evacuation sites."""
