"""The app's wiring: command-line tasks, data loaders, the full model registry."""
