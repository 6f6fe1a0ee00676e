"""gunicorn settings for `make run` and for a server (see README, Deploying).

Everything can be set from the environment: WEB_CONCURRENCY (worker processes), THREADS
(threads per worker), HOST and PORT, GRACEFUL_TIMEOUT.
"""

import os
import tempfile
from pathlib import Path

wsgi_app = "tracker:create_app()"

# The workers' figures for /metrics are kept in files here and added up at each scrape; set
# before any worker imports the app. A folder of this run's own, emptied at the start, so
# that figures of an earlier run are not added in.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="aso-tracker-metrics-"))

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
# Requests mostly wait on PostgreSQL, so a few threads per process keep a core busy;
# two processes per core is gunicorn's usual starting point.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1))
threads = int(os.environ.get("THREADS") or 4)
worker_class = "gthread"
# On SIGTERM, workers finish the requests they hold (photo uploads from a weak signal take
# a while) for up to this long before they are stopped.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT") or 30)
timeout = 60
keepalive = 5
# The app writes one line per request itself (with the request id); gunicorn's own
# messages go to stderr.
accesslog = None
errorlog = "-"
# Each worker builds its own app and database pool: connections are never shared by forks.
preload_app = False
# Uploads are read by the app, which knows the limits; gunicorn only caps the headers.
limit_request_line = 8190
# Several servers may run on one machine (tests, a bench, a second site): none needs
# gunicorn's control socket, which all of them would put at the same path.
control_socket_disable = True


def on_starting(server):
    """Before any worker starts, empty the figures' folder and tidy the photo files of uploads
    a crash interrupted."""
    from datetime import timedelta

    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        stale.unlink()

    from tracker import create_app
    from tracker.updates.sweep import sweep_photos

    app = create_app()
    try:
        with app.app_context(), app.extensions["db_sessionmaker"]() as session:
            result = sweep_photos(session, app.config["UPLOAD_DIR"], grace=timedelta(hours=1))
    except Exception as exc:  # the database may be down: serve anyway (/healthz says so)
        server.log.warning("photo sweep skipped: %s", exc)
        return
    finally:
        app.extensions["db_engine"].dispose()
    server.log.info(
        "photo sweep: removed %d files without a row, moved %d into place",
        result.removed,
        result.completed,
    )


def child_exit(server, worker):
    """Drop a stopped worker's live figures (connections in use) from the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
