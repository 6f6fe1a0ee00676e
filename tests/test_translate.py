"""Translation looks the request's translations up once, and a forced language still wins."""

import flask_babel
import pytest
from shapely.geometry import Point

from tracker.core.translate import force_locale, gettext, lazy_gettext, pgettext


@pytest.fixture
def lookups(monkeypatch):
    """Count how often Flask-Babel is asked for the translations."""
    asked = []
    real = flask_babel.get_translations

    def counted():
        asked.append(1)
        return real()

    monkeypatch.setattr(flask_babel, "get_translations", counted)
    return asked


def test_a_request_looks_its_translations_up_once(app, lookups):
    with app.test_request_context("/?lang=en"):
        assert [gettext("状況"), gettext("状況"), gettext("完了時期")] == [
            "Status",
            "Status",
            "Completion",
        ]
        assert gettext("ここから約 %(d)s", d="300 m") == "About 300 m away"
    assert len(lookups) == 1
    with app.test_request_context("/"):
        assert gettext("状況") == "状況"
    assert len(lookups) == 2


def test_a_page_lists_many_works_with_one_lookup(client, make_project, lookups):
    for n in range(5):
        make_project(name=f"宮地 {n}", geometry=Point(131.1165, 32.9378 + n * 0.001))
    html = client.get("/near?lat=32.9378&lon=131.1165&radius=1000&lang=en").get_data(True)
    assert html.count("away") >= 5 and "Completion" in html
    assert len(lookups) == 1


def test_a_forced_language_speaks_inside_its_block_only(app):
    with app.test_request_context("/?lang=en"):
        assert gettext("状況") == "Status"
        with force_locale("ja"):
            assert gettext("状況") == "状況"
        assert gettext("状況") == "Status"
    with app.test_request_context("/"):
        with force_locale("en"):
            assert gettext("状況") == "Status"
            assert str(lazy_gettext("状況")) == "Status"
        assert gettext("状況") == "状況"


def test_outside_a_request_the_source_language_is_spoken(app):
    with app.app_context():
        assert gettext("状況") == "状況"
        with force_locale("en"):
            assert gettext("状況") == "Status"
        assert gettext("状況") == "状況"
    assert gettext("状況") == "状況"


def test_a_word_is_translated_in_its_context(app):
    with app.test_request_context("/"):
        assert pgettext("map pin", "橋") == "橋"
    with app.test_request_context("/?lang=en"):
        assert pgettext("map pin", "橋") == "Br"
