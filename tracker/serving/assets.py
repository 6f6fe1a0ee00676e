"""Serve the map libraries installed by npm, so no page needs a CDN."""

from flask import Blueprint, abort, current_app, send_from_directory, url_for
from werkzeug.wrappers import Response

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

# Pages name these files by their hashed copies (tracker.serving.hashed_assets), kept a
# year; a plain name (the images the libraries' CSS points at) is kept an hour.
MAX_AGE = 3600


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
    # The hashed name (tracker.serving.hashed_assets): a new version gets a new address.
    return url_for("vendor.vendor_file", filename=path)
