"""The figures the app counts as it answers, for Prometheus (served at /metrics).

Under gunicorn every worker counts in files under PROMETHEUS_MULTIPROC_DIR (set by
gunicorn.conf.py before the workers start), and a scrape adds up all workers' files;
without it (flask run, tests) the process's own figures are read.
"""

import os
import time

from flask import Flask, Response, current_app, g, got_request_exception, request
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
)
from sqlalchemy.exc import DBAPIError

REQUESTS = Counter(
    "tracker_http_requests_total", "Requests answered, by route, method and status",
    ["route", "method", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "tracker_http_request_duration_seconds", "Time to answer a request, by route",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)  # fmt: skip
CACHED_ANSWERS = Counter(
    "tracker_answer_cache_total", "Answers asked of the kept-answers store, by result",
    ["result"],
)  # fmt: skip
AUTH_EVENTS = Counter(
    "tracker_auth_events_total",
    "Sign-ins, failed and throttled sign-ins, refused permissions and token uses",
    ["event"],
)
DATABASE_ERRORS = Counter(
    "tracker_database_errors_total", "Requests that failed on a database error, by kind", ["kind"]
)
POOL_IN_USE = Gauge(
    "tracker_db_pool_connections_in_use",
    "Database connections checked out of the pools of all workers",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "tracker_db_pool_connections_open",
    "Database connections open in the pools of all workers",
    multiprocess_mode="livesum",
)


def scrape_registry() -> CollectorRegistry:
    """Return a registry holding every worker's figures (or this process's)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def init_app(app: Flask) -> None:
    """Count every request and every database failure."""
    app.before_request(_start)
    app.after_request(_count)
    got_request_exception.connect(_database_failure, app)


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _count(response: Response) -> Response:
    started = g.get("metrics_started")
    # The rule, not the path: one series per route whatever ids are asked for.
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    REQUESTS.labels(route, request.method, str(response.status_code)).inc()
    if started is not None:
        LATENCY.labels(route, request.method).observe(time.perf_counter() - started)
    pool = (
        current_app.extensions["db_engine"].pool if "db_engine" in current_app.extensions else None
    )
    if pool is not None and hasattr(pool, "checkedout"):
        POOL_IN_USE.set(pool.checkedout())
        POOL_SIZE.set(pool.checkedout() + pool.checkedin())
    return response


def _database_failure(_sender: Flask, exception: BaseException, **_extra: object) -> None:
    if isinstance(exception, DBAPIError):
        DATABASE_ERRORS.labels(type(exception.orig).__name__ if exception.orig else "unknown").inc()
