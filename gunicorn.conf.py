"""gunicorn settings for `make run` and for a server (see README, Deploying).

Everything can be set from the environment: WEB_CONCURRENCY (worker processes), THREADS
(threads per worker), HOST and PORT, GRACEFUL_TIMEOUT.
"""

import os
import shutil
import tempfile
from pathlib import Path

wsgi_app = "tracker:create_app()"

# The workers' figures for /metrics are kept in files here and added up at each scrape; set
# before any worker imports the app. Unless set (systemd gives one under /run), a folder of
# this run's own, removed when the server stops: every start would otherwise leave one in
# the temporary folder. Emptied at the start, so that an earlier run's figures are not added in.
# (Known by its name, as a reload on SIGHUP reads this file again with the folder set.)
OWN_METRICS_PREFIX = "aso-tracker-metrics-"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=OWN_METRICS_PREFIX)

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
# One process per core, each with many threads (README, Deploying, has the figures). A
# nearby answer takes about as much CPU in Python (3–4 ms) as in PostgreSQL (4–5 ms), so a
# process's busy threads do contend for its GIL: they share it, each answer taking as much
# longer as there are others under way in that process. A kept-alive connection stays with
# the process that accepted it, and the kernel hands them out unevenly (20 clients on 2
# processes: 14 and 6, 12 and 8, 20 and none): the busier process shares its GIL among more
# requests, and its slowest answers make the 99th percentile. Fewer threads do not cure that
# (the connections then queue behind them), nor does one process (the cached maps and tiles,
# all Python, answer half as fast), nor closing connections after each request.
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)
threads = int(os.environ.get("THREADS") or 16)
worker_class = "gthread"
# Each thread may hold a database connection: the pool keeps that many open, so that a busy
# moment never opens (and closes) connections per request.
os.environ.setdefault("DB_POOL_SIZE", str(threads))
# On SIGTERM, workers finish the requests they hold (photo uploads from a weak signal take
# a while) for up to this long before they are stopped.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT") or 30)
timeout = 60
# How long an idle kept-alive connection stays open. Longer than a resident's pause between
# taps and than nginx keeps its upstream connections (60 s): a client that sends its next
# request just as the server closes the connection gets a reset instead of an answer (one to
# six per 30-second crowd of 200 phones pausing 1–5 s, with 5 s here; none with 75).
# An idle connection costs a worker no thread, only a place in its poller.
keepalive = 75
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


def on_exit(server):
    """Remove the figures' folder this run made for itself."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    if folder.parent == Path(tempfile.gettempdir()) and folder.name.startswith(OWN_METRICS_PREFIX):
        shutil.rmtree(folder, ignore_errors=True)


def child_exit(server, worker):
    """Drop a stopped worker's live figures (connections in use) from the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Open the worker's database connections and do what its first requests would otherwise
    wait for, before it takes requests: opened on the first busy moment instead, the
    connections made the slowest answers twice as slow (README, Deploying)."""
    from tracker.core.db import open_pool
    from tracker.wiring.warm_up import warm_up

    warm_up(worker.wsgi)
    try:
        opened = open_pool(worker.wsgi)
    except Exception as exc:  # the database may be down: serve anyway (/healthz says so)
        worker.log.warning("database connections not opened ahead: %s", exc)
        return
    worker.log.info("opened %d database connections", opened)
