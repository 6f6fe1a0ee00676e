"""Hazard zones (土砂災害警戒区域, 洪水浸水想定区域) and the works and shelters inside them."""
