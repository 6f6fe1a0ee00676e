"""Error responses: JSON under /api, pages elsewhere."""

from flask import Flask, Response, jsonify, render_template, request
from flask.globals import request_ctx
from werkzeug.exceptions import HTTPException


class BadInput(ValueError):
    """Input that cannot be used; the message says what is wrong."""


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(BadInput, _bad_input)


def wants_json() -> bool:
    """Tell whether this request should be answered in JSON."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _http_error(error: HTTPException):
    if request_ctx.url_adapter is None:
        # A Host not in TRUSTED_HOSTS: no URL can be built, so no page can be rendered.
        return Response(f"{error.code} {error.name}\n", error.code, mimetype="text/plain")
    if wants_json():
        return jsonify(error=error.description), error.code
    return render_template("error.html", error=error), error.code


def _bad_input(error: BadInput):
    if wants_json():
        return jsonify(error=str(error)), 400
    return render_template("error.html", error=error, message=str(error)), 400
