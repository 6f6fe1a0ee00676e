"""A worker does before its first request what that request would otherwise wait for."""

from tracker.restrictions.schedule import _day_params, _holidays_of
from tracker.wiring.warm_up import warm_up


def test_a_worker_knows_the_holidays_ahead_and_has_every_template_compiled(app):
    _holidays_of.cache_clear()
    _day_params.cache_clear()
    app.jinja_env.cache.clear()
    warm_up(app)
    # From yesterday's year to three years on, and what today's statements bind.
    assert _holidays_of.cache_info().currsize >= 4
    assert _day_params.cache_info().currsize == 1
    assert len(app.jinja_env.cache) == len(app.jinja_env.list_templates())
