#!/usr/bin/env bash
# Run the server command given (`make run`, `make dev`); PORT names its port.
# Alongside it runs the import worker (`flask run-import-jobs`), which checks and imports the
# files posted on /projects/import; it stops with the server.
# With DEV_MAIL=1 it also runs a catch-all SMTP server on 127.0.0.1:8025 (DEV_MAIL_PORT) that
# keeps every mail in instance/mail/ (a Maildir: one file per mail, readable as text), and
# runs `flask send-alerts` every minute against it. Without it, no mail is sent at all.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${PORT:-5000}"
flask=(.venv/bin/flask --app tracker)
helpers=()
trap 'if [ ${#helpers[@]} -gt 0 ]; then kill "${helpers[@]}" 2>/dev/null || true; fi' EXIT

"${flask[@]}" run-import-jobs &
helpers+=("$!")
printf '== the import worker runs alongside (flask run-import-jobs)\n'

if [ "${DEV_MAIL:-}" = 1 ]; then
  mail_port="${DEV_MAIL_PORT:-8025}"
  mkdir -p instance/mail/cur instance/mail/new instance/mail/tmp  # a Maildir
  .venv/bin/python -m aiosmtpd -n -l "127.0.0.1:$mail_port" \
    -c aiosmtpd.handlers.Mailbox instance/mail &
  catchall=$!
  export SMTP_URL="smtp://127.0.0.1:$mail_port"
  export PUBLIC_URL="${PUBLIC_URL:-http://127.0.0.1:$port}"
  (
    trap 'kill "$!" 2>/dev/null; exit' TERM  # take the pending sleep along
    while :; do
      sleep 60 &
      wait "$!"
      "${flask[@]}" send-alerts >/dev/null || true
    done
  ) &
  helpers+=("$!" "$catchall")
  printf '== DEV_MAIL: alerts go every minute to a catch-all that keeps them in instance/mail/\n'
fi

"$@"
