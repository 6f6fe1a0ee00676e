"""Translation: gettext and its kin, with the request's translations looked up once.

Flask-Babel finds the translations afresh for every string it translates (about a dozen
context lookups, 8 µs); a page that lists a hundred works says several hundred strings, so
the translations are kept on the request's context (`g`) after the first. A block that
speaks another language (`force_locale`, for a reader's mail) sets them aside on entry and
on exit. Everything in the app translates through this module.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import flask_babel
from babel.support import NullTranslations
from flask import Flask, g, has_app_context
from flask_babel.speaklater import LazyString

_KEPT = "_reader_translations"


def _translations() -> NullTranslations:
    try:
        return getattr(g, _KEPT)
    except AttributeError:
        found = flask_babel.get_translations()
        setattr(g, _KEPT, found)
        return found
    except RuntimeError:
        # Outside any app context: the source language, as Flask-Babel would answer.
        return flask_babel.get_translations()


def gettext(string: str, **variables: object) -> str:
    """Translate `string`, then fill in its %(name)s variables."""
    text = _translations().ugettext(string)
    return text % variables if variables else text


def pgettext(context: str, string: str, **variables: object) -> str:
    """Translate `string` as meant in `context` (the same word with two senses)."""
    text = _translations().upgettext(context, string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables: object) -> LazyString:
    """Translate `string` when it is used, in the language of the request using it."""
    return LazyString(gettext, string, **variables)


def _forget() -> None:
    if has_app_context():
        g.pop(_KEPT, None)


@contextmanager
def force_locale(lang: str) -> Iterator[None]:
    """Speak `lang` inside the block, whatever the request's language."""
    with flask_babel.force_locale(lang):
        _forget()
        try:
            yield
        finally:
            _forget()


def init_app(app: Flask) -> None:
    """Let the templates translate through the kept translations too (after Flask-Babel's
    own set-up, which installed callables that look them up for every string)."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
