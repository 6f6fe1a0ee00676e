"""Field updates: status history, photos and the phone update flow for staff."""
