"""Real HTTP servers for the bench: the app as `make run` serves it, the development server, and tipg."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from config import ROOT
from tests.live_database import free_port, free_ports

# tipg lives in a virtualenv of the bench's own, never in requirements.txt.
TIPG_VENV = ROOT / ".bench-tipg"
TIPG_PACKAGES = ("tipg==1.6.1", "uvicorn==0.54.0")
# So does locust (gevent and its own web stack), pinned in bench/locust-requirements.txt.
LOCUST_VENV = ROOT / ".bench-locust"
LOCUST_REQUIREMENTS = ROOT / "bench" / "locust-requirements.txt"


def _wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {url}")
        try:
            requests.get(url, timeout=2)
            return
        # Refused before the server listens; unanswered while its workers still boot (the
        # port listens, no worker takes the connection yet) on a busy machine.
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer in {seconds} s: {url}")


@contextmanager
def _serving(command: list[str], env: dict, probe: str):
    process = subprocess.Popen(
        command, env=os.environ | env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_until_up(probe, process)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def app_server(database_url: str, **settings: str):
    """Serve the app on the bench database as `make run` does (gunicorn), with any other
    settings as environment variables; yield its base URL."""
    port = free_port()
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py")]
    env = {"DATABASE_URL": database_url, "PORT": str(port), **settings}
    base = f"http://127.0.0.1:{port}"
    with _serving(command, env, base + "/ogc/conformance"):
        yield base


@contextmanager
def app_server_process(database_url: str, **settings: str):
    """Serve the app as app_server does; yield its base URL and gunicorn's master process
    (whose children are the workers)."""
    port = free_port()
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py")]
    env = {"DATABASE_URL": database_url, "PORT": str(port), **settings}
    base = f"http://127.0.0.1:{port}"
    with _serving(command, env, base + "/ogc/conformance") as process:
        yield base, process


@contextmanager
def empty_wsgi_server():
    """Serve bench/empty_wsgi.py as the app is served (gunicorn.conf.py's workers, threads,
    worker class and keep-alive, none of its hooks); yield its base URL."""
    port = free_port()
    # No settings file (gunicorn would read the app's from the working folder).
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "/dev/null", "--chdir", str(ROOT),
        "--workers", str(os.cpu_count() or 1), "--threads", "16", "--worker-class", "gthread",
        "--keep-alive", "75", "--no-control-socket", "--bind", f"127.0.0.1:{port}",
        "bench.empty_wsgi:app",
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with _serving(command, {}, base + "/"):
        yield base


@contextmanager
def flask_run_server(database_url: str):
    """Serve the app with the development server (werkzeug, threaded), for comparison; yield its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "flask", "--app", "tracker", "run", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with _serving(command, {"DATABASE_URL": database_url}, base + "/ogc/conformance"):
        yield base


def ensure_tipg() -> Path:
    """Create the bench-only virtualenv with tipg once; return its Python."""
    python = TIPG_VENV / "bin" / "python"
    marker = TIPG_VENV / ".installed"
    if not marker.exists() or marker.read_text() != " ".join(TIPG_PACKAGES):
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             *TIPG_PACKAGES],
            check=True,
        )  # fmt: skip
        marker.write_text(" ".join(TIPG_PACKAGES))
    return python


def ensure_locust() -> Path:
    """Create the bench-only virtualenv with locust once (scripts/setup.sh --bench does it
    too); return its locust command."""
    locust = LOCUST_VENV / "bin" / "locust"
    marker = LOCUST_VENV / ".installed"
    wanted = LOCUST_REQUIREMENTS.read_text()
    if not marker.exists() or marker.read_text() != wanted:
        subprocess.run([sys.executable, "-m", "venv", str(LOCUST_VENV)], check=True)
        subprocess.run(
            [str(LOCUST_VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
             "-r", str(LOCUST_REQUIREMENTS)],
            check=True,
        )  # fmt: skip
        marker.write_text(wanted)
    return locust


@contextmanager
def tipg_server(database_url: str):
    """Serve tipg on the same bench database; yield its base URL."""
    python = ensure_tipg()
    port = free_port()
    plain_url = database_url.replace("postgresql+psycopg://", "postgresql://")
    env = {
        "DATABASE_URL": plain_url,
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.projects"]',
    }
    command = [str(python), "-m", "uvicorn", "tipg.main:app", "--port", str(port), "--log-level",
               "warning"]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with _serving(command, env, base + "/collections"):
        yield base


NGINX_SITE = ROOT / "deploy" / "nginx" / "aso-tracker.conf"


def _bench_site(folder: Path, port: int, redirect_port: int, app_base: str) -> str:
    """Return the shipped nginx site for this machine: its cache, caching rules and upstream
    as shipped, on plain HTTP (the bench measures the cache, not TLS)."""
    site = NGINX_SITE.read_text()
    changes = {
        "proxy_cache_path /var/cache/nginx/aso-tracker": f"proxy_cache_path {folder}/cache",
        "server 127.0.0.1:5000;": f"server {app_base.removeprefix('http://')};",
        "listen 80;\n    listen [::]:80;": f"listen 127.0.0.1:{redirect_port};",
        "listen 443 ssl http2;\n    listen [::]:443 ssl http2;": f"listen 127.0.0.1:{port};",
    }
    for shipped, here in changes.items():
        if shipped not in site:
            raise RuntimeError(f"the nginx site no longer has {shipped!r}")
        site = site.replace(shipped, here)
    return re.sub(r"^\s*ssl_[^\n]*\n", "", site, flags=re.MULTILINE)


@contextmanager
def nginx_proxy(app_base: str):
    """Put the shipped nginx site (with its proxy cache) in front of a running app; yield
    the proxy's base URL. nginx comes from Debian (scripts/setup.sh --test or --bench)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    with tempfile.TemporaryDirectory(prefix="aso-bench-nginx-") as work:
        folder = Path(work)
        port, redirect_port = free_ports(2)
        temp = "\n".join(
            f"  {kind}_temp_path {folder}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        site = _bench_site(folder, port, redirect_port, app_base)
        (folder / "nginx.conf").write_text(
            f"""
user root;
worker_processes 2;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
daemon off;
events {{ worker_connections 1024; }}
http {{
  include /etc/nginx/mime.types;
  access_log off;
{temp}
{site}
}}
"""
        )
        command = [nginx, "-c", str(folder / "nginx.conf"), "-p", str(folder)]
        base = f"http://127.0.0.1:{port}"
        with _serving(command, {}, base + "/ogc/conformance"):
            yield base
