"""The site's icons where browsers and phones look for them: /favicon.ico, the home-screen
icon at /apple-touch-icon.png, and the web app manifest that names the larger ones.

The files are drawn by scripts/make_icons.py into tracker/static/icons; pages name them by
their hashed addresses (a year's caching), and these fixed addresses are kept a week.
"""

from flask import Blueprint, Response, current_app, jsonify, send_from_directory, url_for

from tracker.core.translate import gettext as _

bp = Blueprint("icons", __name__)

FIXED_MAX_AGE = 7 * 24 * 3600
THEME_COLOR = "#1f6f43"


def _icon(filename: str) -> Response:
    folder = f"{current_app.static_folder}/icons"
    return send_from_directory(folder, filename, max_age=FIXED_MAX_AGE)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Send the tab icon (16, 32 and 48 pixels)."""
    return _icon("favicon.ico")


@bp.get("/apple-touch-icon.png")
@bp.get("/apple-touch-icon-precomposed.png")
def apple_touch_icon() -> Response:
    """Send the home-screen icon iPhones ask for at the root."""
    return _icon("apple-touch-icon.png")


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """Answer the web app manifest: the site's name and its icons for a phone's home screen."""
    icons = [
        {"src": url_for("static", filename="icons/icon.svg"), "sizes": "any",
         "type": "image/svg+xml"},
        {"src": url_for("static", filename="icons/icon-192.png"), "sizes": "192x192",
         "type": "image/png"},
        {"src": url_for("static", filename="icons/icon-512.png"), "sizes": "512x512",
         "type": "image/png"},
        {"src": url_for("static", filename="icons/icon-maskable-512.png"), "sizes": "512x512",
         "type": "image/png", "purpose": "maskable"},
    ]  # fmt: skip
    response = jsonify(
        name=_("阿蘇市 復旧・復興事業マップ"),
        short_name=_("復旧マップ"),
        start_url="/",
        display="standalone",
        background_color="#ffffff",
        theme_color=THEME_COLOR,
        icons=icons,
    )
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.vary.add("Accept-Language")
    return response
