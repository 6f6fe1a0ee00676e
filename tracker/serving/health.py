"""GET /healthz: whether this app server can reach its database, for a proxy or a monitor."""

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tracker.core.db import get_session

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Answer 200 {"database": "ok"} when PostgreSQL answers, 503 otherwise."""
    try:
        get_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        response = jsonify(database="unavailable")
        response.status_code = 503
    else:
        response = jsonify(database="ok")
    response.headers["Cache-Control"] = "no-store"
    return response
