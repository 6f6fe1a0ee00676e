"""The one place that reads the current instant: every "now" and "today" of the app comes from here.

Queries take the instant as a bound parameter (never SQL now() or CURRENT_DATE), and rows are
stamped with it, so the app, its database rows and its tests all follow one clock, which the
test suite can set (TEST_NOW). Timeouts and deadlines use time.monotonic() instead.
"""

import os
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def now() -> datetime:
    """Return the current instant, aware, in UTC."""
    return datetime.now(UTC)


def now_jst() -> datetime:
    """Return the current instant in Japan time."""
    return now().astimezone(JST)


def today() -> date:
    """Return today's date in Japan."""
    return now_jst().date()


def file_system_now(directory: str | Path) -> float:
    """Return the current wall time as the file system at `directory` stamps files (epoch seconds).

    Files' mtimes are set by the file system's own clock (the file server's, on a shared disk),
    not by this app's clock, so a file's age is measured against this reading: a file made
    just now is a second old whatever instant the app believes it is.
    """
    with tempfile.TemporaryFile(dir=directory) as probe:
        return os.fstat(probe.fileno()).st_mtime
