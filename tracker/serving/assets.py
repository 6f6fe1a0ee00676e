"""Serve the map libraries installed by npm, so no page needs a CDN."""

import json
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, send_from_directory, url_for

bp = Blueprint("vendor", __name__)

# Only these files leave node_modules: the folder also holds package sources,
# docs and examples that have no business being public.
ALLOWED = frozenset(
    [
        "leaflet/dist/leaflet.js",
        "leaflet/dist/leaflet.css",
        *(
            f"leaflet/dist/images/{name}"
            for name in (
                "layers.png",
                "layers-2x.png",
                "marker-icon.png",
                "marker-icon-2x.png",
                "marker-shadow.png",
            )
        ),
        "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js",
        "leaflet-draw/dist/leaflet.draw.js",
        "leaflet-draw/dist/leaflet.draw.css",
        *(
            f"leaflet-draw/dist/images/{name}"
            for name in (
                "layers.png",
                "layers-2x.png",
                "marker-icon.png",
                "marker-icon-2x.png",
                "marker-shadow.png",
                "spritesheet.png",
                "spritesheet-2x.png",
                "spritesheet.svg",
            )
        ),
    ]
)

# The URLs carry the package version (see vendor_url), so browsers may keep them a year.
MAX_AGE = 365 * 24 * 3600


@bp.get("/vendor/<path:filename>")
def vendor_file(filename: str) -> Response:
    """Send one whitelisted file from node_modules."""
    if filename not in ALLOWED:
        abort(404)
    return send_from_directory(current_app.config["NODE_MODULES_DIR"], filename, max_age=MAX_AGE)


def vendor_url(path: str) -> str:
    """Return the URL of a whitelisted node_modules file, e.g. 'leaflet/dist/leaflet.js'."""
    if path not in ALLOWED:
        # Fail while rendering, not with a 404 the page author may never see.
        raise ValueError(f"not a served vendor file: {path}")
    package = path.split("/", 1)[0]
    version = _package_version(current_app.config["NODE_MODULES_DIR"], package)
    # The version in the query string makes an upgrade bypass the year-long cache.
    return url_for("vendor.vendor_file", filename=path, v=version)


@lru_cache(maxsize=32)
def _package_version(node_modules_dir: str, package: str) -> str:
    manifest = Path(node_modules_dir, package, "package.json")
    try:
        return json.loads(manifest.read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        return "0"
