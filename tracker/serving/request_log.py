"""One log line per request, and the request id that ties a line to what the client saw.

Lines carry the method, the path (never the query string, which may hold anything a
client typed, nor the key of a secret link), the status, the time taken and the id; never
passwords, tokens or cookies. With LOG_FORMAT=json each line is one JSON object with the
same facts as named members, for a log collector to read without patterns.
"""

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, request

from tracker.serving.metrics import AUTH_EVENTS

log = logging.getLogger("tracker.requests")
auth_log = logging.getLogger("tracker.auth")

# An id a proxy already gave the request is kept, if it looks like one.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


# Paths that carry a one-time link's token: the token is left out of the line.
class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's named facts."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line of JSON."""
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_formatter(log_format: str) -> logging.Formatter:
    """Return the formatter of LOG_FORMAT: "json", or plain text lines."""
    if log_format == "json":
        return JsonLines()
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def init_app(app: Flask) -> None:
    """Give every request an id and log one line when it is answered."""
    _configure_logging(app.config.get("LOG_FORMAT", "text"))
    # First in line, so that the time includes every other before_request step.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)


def _configure_logging(log_format: str) -> None:
    logger = logging.getLogger("tracker")
    logger.setLevel(logging.INFO)
    # Under gunicorn or `flask run` nothing handles our loggers yet: write to stderr, which
    # gunicorn and systemd collect. A host that configured logging (tests) keeps its own.
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(log_formatter(log_format))
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
    path = _logged_path()
    fields = {
        "method": request.method,
        "path": path,
        "status": response.status_code,
        "ms": round(elapsed, 1),
        "id": rid,
        "user": user.id if user is not None else None,
    }
    log.info(
        "%s %s status=%d ms=%.1f id=%s user=%s",
        request.method,
        quoted(path),
        response.status_code,
        elapsed,
        rid,
        user.id if user is not None else "-",
        extra={"fields": fields},
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
    AUTH_EVENTS.labels(event).inc()
    named = {"event": event, **{name: str(value)[:100] for name, value in fields.items()}}
    auth_log.info(
        "%s %s id=%s", event, parts, request_id(), extra={"fields": {**named, "id": request_id()}}
    )
