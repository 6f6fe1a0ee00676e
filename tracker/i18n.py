"""Japanese by default, English on request; the choice is kept in a cookie."""

from flask import Flask, request
from flask_babel import Babel, get_locale

LANGUAGES = {"ja": "日本語", "en": "English"}
LANG_COOKIE = "lang"


def select_locale() -> str:
    """Pick the language: ?lang=, then the remembered choice, then Japanese."""
    for candidate in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return "ja"


def init_app(app: Flask) -> None:
    """Set up translations."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
