"""A database whose writes are committed, and the app served from it by gunicorn, as in
production: for what a rolled-back test transaction cannot show (several processes,
concurrent requests, signals, backups)."""

import os
import signal
import socket
import subprocess
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import requests

from config import ROOT
from tracker.wiring.loaders import (
    fresh_city_database,
)

GEODATA = ROOT / "geodata"


def sibling_url(url: str, suffix: str) -> str:
    """Return the URL of a database named after this one plus a suffix."""
    base, _, name = url.rpartition("/")
    return f"{base}/{name}_{suffix}"


def build_database(url: str) -> str:
    """Create a database by running the migrations, with the catalogue and city loaded."""
    fresh_city_database(url, GEODATA)
    return url


def free_port() -> int:
    """Return a local TCP port nobody listens on."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """Return `count` different local TCP ports nobody listens on. The sockets are held
    until all are chosen: one closed at once may be handed out again by the next call."""
    with ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


@contextmanager
def gunicorn(database_url: str, instance_dir: Path, *, new_session: bool = False, **env):
    """Run `make run`'s server (gunicorn.conf.py) on a free port; yield (base URL, process).

    With new_session, the server and its workers form a process group of their own (to be
    killed together)."""
    port = free_port()
    # Its temporary files (the metrics folder) within the test's folder: a server killed
    # with SIGKILL cannot remove them itself.
    temporary = instance_dir / "tmp"
    temporary.mkdir(parents=True, exist_ok=True)
    environment = (
        os.environ
        | {
            "TMPDIR": str(temporary),
            "DATABASE_URL": database_url,
            "PORT": str(port),
            "TRACKER_INSTANCE_DIR": str(instance_dir),
            "UPLOAD_DIR": str(instance_dir / "uploads"),
            "SECRET_KEY": "live-test-secret",
            "WEB_CONCURRENCY": "2",
            "THREADS": "4",
        }
        | env
    )
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py")],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=new_session,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Workers take a few seconds to boot on a busy machine.
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{process.stdout.read()}")
            time.sleep(0.2)
        yield base, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
