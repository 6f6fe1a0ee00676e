"""Leaflet maps built with folium, using only locally served scripts and styles."""
