"""Bring works lists in from CSV, Excel and GIS files, and take them out again."""
