"""OGC API – Features and Tiles: the tracker as layers for GIS clients."""
