"""One log line per request, and the request id that ties a line to what the client saw.

Lines carry the method, the path (never the query string, which may hold anything a
client typed, nor the key of a secret link), the status, the time taken and the id; never passwords, tokens or cookies.
"""

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, request

log = logging.getLogger("tracker.requests")
auth_log = logging.getLogger("tracker.auth")

# An id a proxy already gave the request is kept, if it looks like one.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def init_app(app: Flask) -> None:
    """Give every request an id and log one line when it is answered."""
    _configure_logging()
    # First in line, so that the time includes every other before_request step.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)


def _configure_logging() -> None:
    logger = logging.getLogger("tracker")
    logger.setLevel(logging.INFO)
    # Under gunicorn or `flask run` nothing handles our loggers yet: write to stderr, which
    # gunicorn and systemd collect. A host that configured logging (tests) keeps its own.
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)


def request_id() -> str:
    """Return this request's id (from X-Request-ID when a proxy set a usable one)."""
    if "request_id" not in g:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    return g.request_id


def quoted(value: object) -> str:
    """Return text as a quoted, escaped JSON string cut to 100 characters, safe in one log line."""
    return json.dumps(str(value)[:100], ensure_ascii=False)


def _start() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _finish(response: Response) -> Response:
    started = g.get("request_started")
    elapsed = (time.perf_counter() - started) * 1000 if started else 0.0
    rid = request_id()
    response.headers["X-Request-ID"] = rid
    user = g.get("current_user")
    log.info(
        "%s %s status=%d ms=%.1f id=%s user=%s",
        request.method,
        quoted(_logged_path()),
        response.status_code,
        elapsed,
        rid,
        user.id if user is not None else "-",
    )
    return response


def _logged_path() -> str:
    # A secret link (a reset link, an alert's manage link) carries its key in the path: the
    # line names the route instead ("/account/reset/<token>").
    if request.url_rule is not None and "token" in (request.view_args or {}):
        return request.url_rule.rule
    return request.path


def auth_event(event: str, **fields: object) -> None:
    """Log a sign-in, a failed sign-in, a refused permission or a token use, with the request id."""
    parts = " ".join(f"{name}={quoted(value)}" for name, value in fields.items())
    auth_log.info("%s %s id=%s", event, parts, request_id())
