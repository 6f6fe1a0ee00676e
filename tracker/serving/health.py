"""GET /healthz: whether this app server can reach its database, for a proxy or a monitor.

Always JSON. It asks the primary in a session of its own, closed before the answer, so
that no commit after the answer can fail it; with a read replica it also says the
replica's state and lag (reads go to the primary meanwhile, so the server stays healthy).
"""

import math

from flask import Blueprint, Response, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from tracker.core.db import replica_verdict
from tracker.core.errors import RETRY_AFTER_S, http_error_words, outage_instead

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Answer 200 {"database": "ok"} when PostgreSQL answers, 503 with Retry-After otherwise;
    with a replica, also {"replica": "ok" | "lagging" | "unavailable", "replica_lag_s": …}."""
    try:
        with current_app.extensions["db_sessionmaker"]() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        body: dict[str, object] = {"database": "unavailable"}
    else:
        body = {"database": "ok"}
    replica = replica_verdict()
    if replica is not None:
        lag = replica.lag_s
        if lag is not None and not math.isfinite(lag):
            lag = None  # still replaying, nothing replayed yet: unknown (JSON has no Infinity)
        body |= {"replica": replica.state, "replica_lag_s": None if lag is None else round(lag, 1)}
    response = jsonify(body)
    if body["database"] != "ok":
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(HTTPException)
def _failed(error: HTTPException) -> ResponseReturnValue:
    """Answer in JSON whatever failed: a monitor reads JSON, never an error page."""
    error = outage_instead(error)
    code, _title, message = http_error_words(error)
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    body = {"database": "unavailable"} if error.code == 503 else {"error": message, "code": code}
    return jsonify(body), error.code or 500, headers
