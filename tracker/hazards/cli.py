"""`flask import-hazards FILE --kind KIND`: load a national hazard layer."""


def init_app(app) -> None:
    """Register the command."""
