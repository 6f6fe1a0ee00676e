"""Works lists as files: the columns both ways, reading a cell, writing Excel and GIS files."""
