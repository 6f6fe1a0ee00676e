"""The field staff's layer: the /staff phone pages, the updates API, photos and the offline queue."""
