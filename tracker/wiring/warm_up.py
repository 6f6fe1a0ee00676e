"""What a worker does once before its first request (gunicorn's post_worker_init), so that
no reader's request pays for it: in a fresh process the first nearby page took 0.4 s
against 0.03 s for the next, and a work's first page 0.1 s against 0.02 s."""

from flask import Flask
from sqlalchemy.orm import configure_mappers

from tracker.core import clock
from tracker.restrictions.schedule import sql_params


def warm_up(app: Flask) -> None:
    """Set up the models' relationships, the public holidays ahead and every template."""
    # Else done by the first query through the models (0.2 s).
    configure_mappers()
    # The holidays from yesterday's year on, which every reading of the restrictions binds
    # (0.2 s: jpholiday works each year out rule by rule).
    sql_params(clock.now())
    # About 1 s for all of them; a page's first reader otherwise waits for its templates.
    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)
