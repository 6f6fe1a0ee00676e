"""Configuration read from the environment, with defaults for a local machine."""

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# Debian's Chromium, headless, for the browser tests and the map bench (Playwright's own
# download does not work offline).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]

GSI_TILE_URL = "https://cyberjapandata.gsi.go.jp/xyz/{tileset}/{z}/{x}/{y}.{ext}"

LOCAL_DATABASE_URL = "postgresql+psycopg://tracker:tracker@127.0.0.1:5432/aso_tracker"


def _secret_key(instance_dir: Path) -> str:
    """Return SECRET_KEY from the environment, or one kept in the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    # A key kept on disk keeps sessions valid across restarts without a key in the repo.
    key_file = instance_dir / "secret_key"
    if not key_file.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def test_database_url(database_url: str) -> str:
    """Return the test database URL: TEST_DATABASE_URL, or the run database's name + '_test'."""
    if os.environ.get("TEST_DATABASE_URL"):
        return os.environ["TEST_DATABASE_URL"]
    base, _, name = database_url.rpartition("/")
    return f"{base}/{name}_test"


def _list(value: str | None) -> list[str] | None:
    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    return items or None


def _networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(item, strict=False) for item in _list(value) or []]


def load_config() -> dict:
    """Read the configuration from the environment."""
    instance_dir = Path(os.environ.get("TRACKER_INSTANCE_DIR", ROOT / "instance"))
    return {
        "DATABASE_URL": os.environ.get("DATABASE_URL", LOCAL_DATABASE_URL),
        "DATABASE_URL_FROM_ENV": "DATABASE_URL" in os.environ,
        # A streaming replica for read-only requests (maps, tiles, GET API, feeds); optional.
        "DATABASE_READ_URL": os.environ.get("DATABASE_READ_URL", ""),
        # Reads go to the primary while the replica lags more than this many seconds; its
        # health is checked every REPLICA_CHECK_S, and after a failed connection it is left
        # alone for REPLICA_RETRY_S (README, Read replicas).
        "REPLICA_MAX_LAG_S": float(os.environ.get("REPLICA_MAX_LAG_S", 30)),
        "REPLICA_CHECK_S": float(os.environ.get("REPLICA_CHECK_S", 5)),
        "REPLICA_RETRY_S": float(os.environ.get("REPLICA_RETRY_S", 15)),
        "SECRET_KEY": _secret_key(instance_dir),
        # Keys SECRET_KEY replaced, comma-separated: still accepted, so that changing the key
        # keeps the unsubscribe links in alert mails working (and sessions signed in).
        "SECRET_KEY_FALLBACKS": _list(os.environ.get("SECRET_KEY_FALLBACKS")) or [],
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(instance_dir / "uploads")),
        "NODE_MODULES_DIR": os.environ.get("NODE_MODULES_DIR", str(ROOT / "node_modules")),
        # Static files under content-hashed names, built when the app starts (not in git).
        "STATIC_BUILD_DIR": os.environ.get("STATIC_BUILD_DIR", str(ROOT / "build" / "public")),
        "GEODATA_DIR": str(ROOT / "geodata"),
        # The base map tiles: a template with {tileset} (std, pale, seamlessphoto), {ext},
        # {z}, {x}, {y}. 地理院タイル by default; its terms ask for the credit the maps show.
        "MAP_TILE_URL": os.environ.get("MAP_TILE_URL", GSI_TILE_URL),
        # load-data brings the sample works along unless SAMPLE_DATA=0 (a production install).
        "SAMPLE_DATA": os.environ.get("SAMPLE_DATA", "1") != "0",
        # Room for one status update with its most photos (10 of up to 10 MB each) and the form.
        "MAX_CONTENT_LENGTH": 102 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "") == "1",
        # A sign-in lasts two weeks (staff phones stay signed in between site visits);
        # signing out ends it at once on the server side.
        "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
        # Admins can change everything: their sign-in ends after 12 hours, or 30 minutes
        # without a request.
        "ADMIN_SESSION_LIFETIME": timedelta(hours=float(os.environ.get("ADMIN_SESSION_HOURS", 12))),
        "ADMIN_SESSION_IDLE": timedelta(minutes=float(os.environ.get("ADMIN_IDLE_MINUTES", 30))),
        # Staff and viewers are signed out after 8 hours without a request: long enough for
        # a day on site with the phone in a pocket, short enough for a phone left behind.
        "STAFF_SESSION_IDLE": timedelta(hours=float(os.environ.get("STAFF_IDLE_HOURS", 8))),
        # CSRF tokens live as long as the sign-in: an update kept offline for hours must
        # still be accepted when it is sent.
        "WTF_CSRF_TIME_LIMIT": None,
        "JSON_AS_ASCII": False,
        # Behind a TLS-terminating proxy: PROXY_FIX=1 trusts one hop of X-Forwarded-*.
        "PROXY_FIX": os.environ.get("PROXY_FIX", "") == "1",
        # Host names this server answers to (comma-separated); any other Host gets 400.
        "TRUSTED_HOSTS": _list(os.environ.get("TRUSTED_HOSTS")),
        # The public address (https://host[:port]) absolute links are built from, instead
        # of the Host header a request came with; the links in alert mails too.
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "").rstrip("/") or None,
        # Who may read /metrics without signing in: addresses or networks, comma-separated
        # (the client's address: behind a proxy, PROXY_FIX=1 must be set).
        "METRICS_ALLOW": _networks(os.environ.get("METRICS_ALLOW", "127.0.0.1,::1")),
        # LOG_FORMAT=json writes each log line as one JSON object (for a log collector).
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text"),
        # E-mail alerts. Without SMTP_URL nothing leaves the machine: mails wait in the queue.
        "SMTP_URL": os.environ.get("SMTP_URL", ""),
        # A CA bundle for a mail server whose certificate the system does not know.
        "SMTP_CA_FILE": os.environ.get("SMTP_CA_FILE") or None,
        "MAIL_FROM": os.environ.get("MAIL_FROM", "alerts@localhost"),
        # Development: DEV_MAIL=1 keeps account mails (invitations, reset links) as .eml
        # files in DEV_MAIL_DIR instead of sending them.
        "DEV_MAIL": os.environ.get("DEV_MAIL", "") == "1",
        "DEV_MAIL_DIR": os.environ.get("DEV_MAIL_DIR", str(instance_dir / "dev-mail")),
        # Roles that sign in only with a second factor (authenticator app or passkey),
        # comma-separated; others may set one up. SECOND_FACTOR_ROLES= (empty) asks no one.
        "SECOND_FACTOR_ROLES": _list(os.environ.get("SECOND_FACTOR_ROLES", "admin")) or [],
        # Each app process keeps answers of the OGC API and its tiles, per data version,
        # up to this many megabytes (0: none).
        "ANSWER_CACHE_MB": int(os.environ.get("ANSWER_CACHE_MB", 128)),
        # How many seconds a proxy and a phone may keep an answer for anyone (a nearby page,
        # a feed, the restrictions, the OGC API) before asking again with its ETag: a minute
        # shows a changed status soon, and lets a proxy answer a crowd meanwhile.
        "PUBLIC_MAX_AGE": int(os.environ.get("PUBLIC_MAX_AGE", 60)),
        # The open data's publisher, contact and licence: the catalogue (/catalog) and the
        # work-zone feeds (/feeds/...) name them.
        "DATA_PUBLISHER": os.environ.get("DATA_PUBLISHER", "阿蘇市"),
        "DATA_CONTACT_NAME": os.environ.get("DATA_CONTACT_NAME", "阿蘇市 建設課"),
        "DATA_CONTACT_EMAIL": os.environ.get("DATA_CONTACT_EMAIL", ""),
        "DATA_LICENSE_URL": os.environ.get(
            "DATA_LICENSE_URL", "https://creativecommons.org/licenses/by/4.0/"
        ),
        "DATA_LICENSE_NAME": os.environ.get("DATA_LICENSE_NAME", "CC BY 4.0"),
        # Database connections each process keeps open: one per thread that may need one
        # (gunicorn.conf.py sets it to its THREADS), so that none is opened per request.
        "DB_POOL_SIZE": int(os.environ.get("DB_POOL_SIZE", 5)),
    }
