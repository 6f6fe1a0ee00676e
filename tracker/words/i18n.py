"""Japanese by default, English on request; the choice is kept in a cookie."""

from urllib.parse import urlencode

from flask import Flask, Response, has_request_context, request
from flask_babel import Babel, get_locale

from tracker.core import translate
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.words.vocab import input_label

LANGUAGES = {"ja": "日本語", "en": "English"}
LANG_COOKIE = "lang"
# A year: a resident who picked English should not have to pick it again next month.
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


def select_locale() -> str:
    """Pick the language: ?lang=, then the remembered choice, then Japanese."""
    if not has_request_context():
        # Command-line tasks (data loading) speak the source language.
        return "ja"
    for candidate in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return "ja"


def locale() -> str:
    """Return the language of this response: 'ja' or 'en'."""
    return str(get_locale() or "ja")


def switch_url(lang: str) -> str:
    """Return this page's URL with ?lang= set, which switches and remembers the language."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    return f"{request.path}?{urlencode(args, doseq=True)}"


def refusal_text(error: BadInput) -> str:
    """Say a refusal for a page: the field by its name in the reader's language, then why."""
    label = input_label(error.field) if error.field else None
    if label is None:
        return error.text
    return _("%(label)s：%(text)s", label=label, text=error.text)


def _remember_choice(response: Response) -> Response:
    # A plain link switches the language, so the switch works without JavaScript or forms.
    lang = request.args.get("lang")
    if lang in LANGUAGES and request.cookies.get(LANG_COOKIE) != lang:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=LANG_COOKIE_MAX_AGE, samesite="Lax", httponly=True
        )
    return response


def init_app(app: Flask) -> None:
    """Set up translations and the remembered language switch."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=select_locale)
    translate.init_app(app)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["languages"] = LANGUAGES
    app.jinja_env.globals["lang_switch_url"] = switch_url
    app.jinja_env.globals["refusal_text"] = refusal_text
    app.after_request(_remember_choice)
