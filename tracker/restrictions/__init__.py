"""Traffic restrictions that works put on roads: closures, alternating traffic, detours."""
