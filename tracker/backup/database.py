"""pg_dump and pg_restore for the app's database, run from its SQLAlchemy URL."""

import os
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

# What a restore leaves out of a dump: the PostGIS extension and its comment (the target
# database has PostGIS already; creating or commenting on it needs a superuser) and
# spatial_ref_sys, which belongs to the extension.
SKIPPED_ENTRIES = ("EXTENSION - postgis", "COMMENT - EXTENSION postgis", "spatial_ref_sys")


def libpq(url: str) -> tuple[str, dict]:
    """Return a libpq connection string without the password, and the environment holding it."""
    parsed = make_url(url)
    env = os.environ | ({"PGPASSWORD": parsed.password} if parsed.password else {})
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


class ToolFailed(RuntimeError):
    """pg_dump or pg_restore ended in an error; `reason` is its first error line."""

    def __init__(self, tool: str, said: str) -> None:
        lines = [line.strip() for line in said.strip().splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower()]
        self.tool = tool
        self.reason = (errors or lines or ["no message"])[0]
        super().__init__(f"{tool} failed: {said.strip()}")


def _run(command: list[str], env: dict) -> str:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise ToolFailed(command[0], result.stderr)
    return result.stdout + result.stderr


def dump(url: str, target: Path, *, snapshot: str | None = None) -> None:
    """Write the database to `target` in pg_dump's custom format (of a snapshot, if given)."""
    dsn, env = libpq(url)
    command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"]
    if snapshot:
        command.append(f"--snapshot={snapshot}")
    _run([*command, f"--dbname={dsn}"], env)


def restore(url: str, source: Path, workdir: Path) -> str:
    """Restore a custom-format dump into an empty database, in one transaction.

    Returns what pg_restore said, which is nothing when all went well.
    """
    dsn, env = libpq(url)
    entries = _run(["pg_restore", "--list", str(source)], env).splitlines()
    kept = [line for line in entries if not any(skip in line for skip in SKIPPED_ENTRIES)]
    listing = workdir / "restore.list"
    listing.write_text("\n".join(kept) + "\n", encoding="utf-8")
    try:
        return _run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--use-list={listing}",
                f"--dbname={dsn}",
                str(source),
            ],
            env,
        ).strip()
    finally:
        listing.unlink(missing_ok=True)
