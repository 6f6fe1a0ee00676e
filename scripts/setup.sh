#!/usr/bin/env bash
# Bring a fresh Debian/Ubuntu machine to the point where the app and its tests run.
# Every step checks first, so running it again changes nothing.
# Usage: scripts/setup.sh [--test|--bench]
#   --test also installs the browser the tests drive, openssl (the tests' certificates),
#   nginx (the shipped proxy site is tested in front of the app) and pgbackrest (point-in-time
#   recovery is tested on a throwaway cluster); --bench also installs wrk (the HTTP load
#   generator of `make bench`), nginx (its crowd goes through the shipped proxy site too),
#   and locust in a virtualenv of the bench's own (.bench-locust, bench/locust-requirements.txt);
#   Lighthouse comes with the front-end packages (npm ci, pinned in package.json).
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
want_bench=0
[ "${1:-}" = "--test" ] && want_test=1
[ "${1:-}" = "--bench" ] && want_bench=1

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
say() { printf '== %s\n' "$*"; }

# --- System packages -------------------------------------------------------
packages=(python3-venv nodejs npm)
[ -z "${DATABASE_URL:-}" ] && packages+=(postgresql-15 postgresql-15-postgis-3)
[ "$want_test" = 1 ] && packages+=(chromium fonts-noto-cjk gdal-bin python3-gdal openssl nginx pgbackrest)
[ "$want_bench" = 1 ] && packages+=(wrk chromium fonts-noto-cjk nginx)
# pg_dump and pg_restore (backup, restore) must be there even with an outside database.
[ -n "${DATABASE_URL:-}" ] && packages+=(postgresql-client-15)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and the venv module may come from elsewhere (pyenv, nodesource): only the commands matter.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
python3 -c 'import venv, ensurepip' 2>/dev/null && missing=("${missing[@]/python3-venv}")
read -r -a missing <<<"${missing[*]}"
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- Python virtualenv -----------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
if [ ! -f .venv/.installed ] || [ requirements.txt -nt .venv/.installed ]; then
  say "installing Python packages"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  touch .venv/.installed
fi
# Compiled translation catalogues are build products, made from the .po files.
if [ -d tracker/translations ]; then
  .venv/bin/pybabel -q compile -d tracker/translations
fi

# --- Front-end assets (Leaflet and plugins), served by the app itself -------
if [ ! -f node_modules/.installed ] || [ package-lock.json -nt node_modules/.installed ]; then
  say "installing front-end packages"
  npm ci --silent --no-audit --no-fund
  touch node_modules/.installed
fi

# --- The bench's load generator (locust), apart from the app's packages ------
if [ "$want_bench" = 1 ]; then
  if [ ! -f .bench-locust/.installed ] || ! cmp -s bench/locust-requirements.txt .bench-locust/.installed; then
    say "installing locust for the bench"
    python3 -m venv .bench-locust
    .bench-locust/bin/pip install -q --disable-pip-version-check -r bench/locust-requirements.txt
    cp bench/locust-requirements.txt .bench-locust/.installed
  fi
fi

# --- PostgreSQL + PostGIS --------------------------------------------------
if [ -n "${DATABASE_URL:-}" ]; then
  say "using DATABASE_URL; skipping local PostgreSQL"
  exit 0
fi

pg_port=5432
if ! pg_lsclusters -h | grep -q '^15 \+main '; then
  say "creating PostgreSQL cluster 15/main"
  as_root pg_createcluster 15 main >/dev/null
fi
# Each gunicorn worker keeps a connection per thread (gunicorn.conf.py): the tests, a bench
# and a served app side by side need more than PostgreSQL's default of 100.
local_conf=/etc/postgresql/15/main/conf.d/aso-tracker-local.conf
if [ "$(cat "$local_conf" 2>/dev/null)" != "max_connections = 300" ]; then
  echo "max_connections = 300" | as_root tee "$local_conf" >/dev/null
  if pg_isready -q -h 127.0.0.1 -p "$pg_port"; then
    say "restarting PostgreSQL for its new settings"
    as_root pg_ctlcluster 15 main restart
  fi
fi
if ! pg_isready -q -h 127.0.0.1 -p "$pg_port"; then
  say "starting PostgreSQL"
  as_root pg_ctlcluster 15 main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p "$pg_port" && break; sleep 1; done
fi

psql_admin() { as_postgres psql -q -v ON_ERROR_STOP=1 -p "$pg_port" "$@"; }
db_exists() { [ "$(as_postgres psql -tA -p "$pg_port" -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ]; }

psql_admin -d postgres <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tracker') THEN
    CREATE ROLE tracker LOGIN CREATEDB PASSWORD 'tracker';
  END IF;
END $$;
SQL

# A template with PostGIS lets the tracker role create test and bench databases by itself.
if ! db_exists aso_tracker_template; then
  say "creating the PostGIS template database"
  psql_admin -d postgres -c "CREATE DATABASE aso_tracker_template OWNER tracker"
  psql_admin -d aso_tracker_template -c "CREATE EXTENSION IF NOT EXISTS postgis"
  psql_admin -d postgres -c "ALTER DATABASE aso_tracker_template WITH IS_TEMPLATE true"
fi
for db in aso_tracker aso_tracker_test; do
  if ! db_exists "$db"; then
    say "creating database $db"
    psql_admin -d postgres -c "CREATE DATABASE $db OWNER tracker TEMPLATE aso_tracker_template"
  fi
done
