"""The city plan: policies, measures, initiatives and measure 13's indicators."""
