"""Browser security headers on every response, with a per-request nonce for inline scripts.

The pages' only inline scripts are the maps' set-up (Folium renders it into the page); each
carries this request's nonce, so an injected script without it does not run.
"""

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request

# The base map tiles (MAP_TILE_URL, the GSI's by default) are the only thing a page loads
# from elsewhere; the staff pages also fetch them to keep an offline map area.
TILE_HOST = "https://cyberjapandata.gsi.go.jp"

POLICY = (
    ("default-src", "'self'"),
    ("script-src", "'self' 'nonce-{nonce}'"),
    ("style-src", "'self' 'nonce-{nonce}'"),
    # Leaflet's controls and the charts set style attributes; those cannot run code.
    ("style-src-attr", "'unsafe-inline'"),
    ("img-src", "'self' data: blob: {tiles}"),
    ("connect-src", "'self' {tiles}"),
    ("font-src", "'self'"),
    ("worker-src", "'self'"),
    ("manifest-src", "'self'"),
    ("form-action", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'none'"),
    ("frame-ancestors", "'none'"),
)

# Only this site may ask for the phone's position (the staff and near pages) and camera
# (photos of a site); nothing else is needed.
PERMISSIONS = "geolocation=(self), camera=(self), microphone=(), payment=(), usb=()"
# Two years, the usual preload figure; sent only over HTTPS, where it means something.
HSTS = "max-age=63072000; includeSubDomains"


def init_app(app: Flask) -> None:
    """Add the security headers to every response and give templates `csp_nonce()`."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(_add_headers)


def csp_nonce() -> str:
    """Return this request's nonce for inline <script> and <style> elements."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(nonce: str, tile_origin: str = TILE_HOST) -> str:
    """Return the Content-Security-Policy header value for a nonce and the tiles' origin."""
    return "; ".join(
        f"{name} {value.format(nonce=nonce, tiles=tile_origin)}" for name, value in POLICY
    )


def tile_origin(tile_url: str | None) -> str:
    """Return the scheme and host of the base map tile template (MAP_TILE_URL)."""
    if not tile_url:
        return TILE_HOST
    parts = urlsplit(tile_url)
    return f"{parts.scheme}://{parts.netloc}"


def _add_headers(response: Response) -> Response:
    headers = response.headers
    # A 304's headers replace the kept copy's: a new nonce there would block the scripts of
    # the page the browser shows from its cache.
    if response.status_code != 304:
        tiles = tile_origin(current_app.config.get("MAP_TILE_URL"))
        headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce(), tiles))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response
