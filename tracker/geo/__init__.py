"""Geometry: parsing and checking shapes, GIS files and coordinate systems."""
