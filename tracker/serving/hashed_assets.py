"""Static files under names that carry a hash of their content, compressed, kept for a year.

When the app starts it copies its own static files (tracker/static and every blueprint's
static folder) and the map libraries served from node_modules (tracker.serving.assets)
into a build folder (STATIC_BUILD_DIR, not in git), each under a name with a hash of its
content (css/site.css → css/site.3f9a0c1d2e4b.css), beside gzip and brotli copies.
WhiteNoise serves them with a year's immutable caching and the copy the browser accepts.
`url_for('static', filename=...)` and the other static endpoints return the hashed names,
so a changed file gets a new address and no browser keeps the old one. The plain names
are still served by Flask, with short caching, so nothing that knows them breaks.
"""

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from werkzeug.datastructures import Headers
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from tracker.serving import assets

# A year: the browser never asks again for an address whose content cannot change.
CACHE_CONTROL = "public, max-age=31536000, immutable"
HASH_LENGTH = 12

# endpoint → {plain filename → hashed filename}
Manifest = dict[str, dict[str, str]]


def init_app(app: Flask) -> None:
    """Build the hashed copies, serve them, and make the static endpoints name them.

    Call it once every blueprint is registered: their static folders are read here.
    """
    build_dir = Path(app.config["STATIC_BUILD_DIR"])
    manifest = build(_sources(app), build_dir)
    app.extensions["hashed_assets"] = manifest
    app.url_defaults(_hashed_filename)
    served = WhiteNoise(
        app.wsgi_app,
        autorefresh=False,
        allow_all_origins=False,
        add_headers_function=_add_headers,
    )
    served.add_files(str(build_dir), prefix="/")
    app.wsgi_app = served  # type: ignore[method-assign]


def hashed_name(filename: str, content: bytes) -> str:
    """Return `filename` with a hash of `content` before its extension."""
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    stem, dot, extension = filename.rpartition(".")
    if not dot or "/" in extension:
        return f"{filename}.{digest}"
    return f"{stem}.{digest}.{extension}"


def build(sources: list[tuple[str, str, Path, list[str]]], build_dir: Path) -> Manifest:
    """Copy each source file to its hashed name under build_dir, with .gz and .br copies.

    `sources` are (endpoint, URL path, folder, filenames). A hashed file already there is
    the same content and is left alone, so a restart writes nothing new.
    """
    manifest: Manifest = {}
    compressor = Compressor(quiet=True)
    for endpoint, url_path, folder, filenames in sources:
        names = manifest.setdefault(endpoint, {})
        for filename in filenames:
            content = (folder / filename).read_bytes()
            names[filename] = hashed_name(filename, content)
            target = build_dir / url_path.strip("/") / names[filename]
            if not target.exists():
                _write(target, content, compressor, build_dir)
    return manifest


def _write(target: Path, content: bytes, compressor: Compressor, build_dir: Path) -> None:
    """Write a file and its compressed copies, the file itself last and each whole.

    Several app processes may start at once: each writes in a folder of its own, beside
    the served one, and moves the results into place, so none ever sees half a file.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    workspace = Path(tempfile.mkdtemp(prefix=".static-build-", dir=build_dir.parent))
    try:
        draft = workspace / target.name
        draft.write_bytes(content)
        for copy in compressor.compress(str(draft)):
            os.replace(copy, target.with_name(Path(copy).name))
        os.replace(draft, target)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


def _sources(app: Flask) -> list[tuple[str, str, Path, list[str]]]:
    """Return the app's static folders and the served node_modules files."""
    sources = []
    folders = [("static", app.static_url_path, app.static_folder)]
    # A blueprint's static files are served under its url_prefix, as Flask routes them.
    folders += [
        (f"{name}.static", (bp.url_prefix or "") + (bp.static_url_path or ""), bp.static_folder)
        for name, bp in app.blueprints.items()
        if bp.static_url_path is not None
    ]
    for endpoint, url_path, folder in folders:
        if folder is not None and url_path is not None and Path(folder).is_dir():
            sources.append((endpoint, url_path, Path(folder), sorted(_files(Path(folder)))))
    node_modules = Path(app.config["NODE_MODULES_DIR"])
    vendored = sorted(name for name in assets.ALLOWED if (node_modules / name).is_file())
    sources.append(("vendor.vendor_file", "/vendor", node_modules, vendored))
    return sources


def _files(folder: Path) -> Iterator[str]:
    for path in folder.rglob("*"):
        if path.is_file():
            yield path.relative_to(folder).as_posix()


def _hashed_filename(endpoint: str, values: dict[str, Any]) -> None:
    """Give url_for the hashed name of a static file it knows (a URL-defaults callback)."""
    names = current_app.extensions["hashed_assets"].get(endpoint)
    if names is not None and values.get("filename") in names:
        values["filename"] = names[values["filename"]]


def _add_headers(headers: Headers, path: str, url: str) -> None:
    # Every name in the folder is hashed: its content never changes.
    headers["Cache-Control"] = CACHE_CONTROL
    headers["X-Content-Type-Options"] = "nosniff"
