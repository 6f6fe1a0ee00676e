"""`flask import-hazards FILE --kind KIND`: load a national hazard layer."""

import click


def init_app(app) -> None:
    """Register the command."""
