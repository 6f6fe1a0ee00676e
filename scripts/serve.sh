#!/usr/bin/env bash
# Run the server command given (`make run`, `make dev`); PORT names its port.
# With DEV_MAIL=1 it also runs a catch-all SMTP server on 127.0.0.1:8025 (DEV_MAIL_PORT) that
# keeps every mail in instance/mail/ (a Maildir: one file per mail, readable as text), and
# runs `flask send-alerts` every minute against it. Without it, no mail is sent at all.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${PORT:-5000}"
flask=(.venv/bin/flask --app tracker)

if [ "${DEV_MAIL:-}" != 1 ]; then
  exec "$@"
fi

{
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
  sender=$!
  trap 'kill "$sender" "$catchall" 2>/dev/null || true' EXIT
  printf '== DEV_MAIL: alerts go every minute to a catch-all that keeps them in instance/mail/\n'
}

"$@"
