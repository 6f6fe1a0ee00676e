#!/usr/bin/env bash
# Set up point-in-time recovery on the database server with pgBackRest: WAL archiving, the
# stanza, a first full backup, and the timers of the weekly full and nightly incremental
# backups (README, "Point-in-time recovery"). Run as root on the machine PostgreSQL 15 runs
# on (Debian's cluster 15/main), from the repository's folder. Every step checks first, so
# running it again changes nothing. Turning archiving on restarts PostgreSQL once.
# Usage: scripts/setup-pitr.sh [REPOSITORY_PATH]   (default /var/lib/pgbackrest; better a
#        folder on another disk or another machine's disk mounted here)
set -euo pipefail
cd "$(dirname "$0")/.."

repo="${1:-/var/lib/pgbackrest}"
stanza=aso-tracker
cluster=15/main
config=/etc/pgbackrest/pgbackrest.conf
archiving=/etc/postgresql/$cluster/conf.d/aso-tracker-archiving.conf
say() { printf '== %s\n' "$*"; }
as_postgres() { runuser -u postgres -- "$@"; }
[ "$(id -u)" = 0 ] || { echo "run this as root on the database server" >&2; exit 1; }

if ! dpkg-query -W -f='${Status}' pgbackrest 2>/dev/null | grep -q "install ok installed"; then
  say "installing pgbackrest"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbackrest >/dev/null
fi

install -d -o postgres -g postgres -m 750 "$repo" /var/log/pgbackrest
wanted=$(sed "s#^repo1-path=.*#repo1-path=$repo#" deploy/pgbackrest/pgbackrest.conf)
if [ "$(cat "$config" 2>/dev/null)" != "$wanted" ]; then
  say "writing $config (repository: $repo)"
  install -d -m 755 /etc/pgbackrest
  printf '%s\n' "$wanted" >"$config"
  chown root:postgres "$config" && chmod 640 "$config"
fi

if ! cmp -s deploy/pgbackrest/archiving.conf "$archiving"; then
  say "writing $archiving"
  install -m 644 deploy/pgbackrest/archiving.conf "$archiving"
fi
if [ "$(as_postgres psql -tAc 'SHOW archive_mode')" != on ]; then
  say "restarting PostgreSQL $cluster: archive_mode takes effect on a restart"
  systemctl restart "postgresql@${cluster/\//-}"
else
  as_postgres psql -qtAc 'SELECT pg_reload_conf()' >/dev/null
fi

say "stanza $stanza"
as_postgres pgbackrest --stanza="$stanza" stanza-create
as_postgres pgbackrest --stanza="$stanza" check  # a WAL segment goes to the repository and back
if ! as_postgres pgbackrest --stanza="$stanza" info | grep -q "full backup"; then
  say "first full backup"
  as_postgres pgbackrest --stanza="$stanza" --type=full backup
fi

say "timers: full on Sundays, incremental on the other nights"
install -m 644 deploy/systemd/aso-tracker-pgbackrest-* /etc/systemd/system/
systemctl daemon-reload
systemctl enable --now aso-tracker-pgbackrest-full.timer aso-tracker-pgbackrest-incr.timer
as_postgres pgbackrest --stanza="$stanza" info
