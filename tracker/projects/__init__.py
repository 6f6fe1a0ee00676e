"""Recovery and preparedness projects, their plan links and status history."""
