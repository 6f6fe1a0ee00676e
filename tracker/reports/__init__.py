"""Residents' damage reports: intake from a phone, triage by staff, the public view, Open311."""
