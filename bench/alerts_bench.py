"""E-mail alerts: one restriction near 10,000 subscribers, queued and then sent.

alerts_change_ms is what the staff member waits for (the restriction, its history entry and
its outbox row, one transaction); alerts_enqueue_ms adds matching its line to every
subscription around it and queueing their mails, as `send-alerts` does first.
alerts_send_per_s is the sender's pace against an SMTP server (aiosmtpd) in its own process,
rendering both parts of every mail.
"""

import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from geoalchemy2.shape import to_shape
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from tests.live_database import free_port
from tracker import create_app
from tracker.alerts.models import AlertDelivery
from tracker.alerts.sending import SendReport, prepare, send_alerts
from tracker.core.smtp import SmtpTransport, parse_smtp_url
from tracker.projects.models import Project
from tracker.restrictions.operations import add_restriction

SUBSCRIBERS = 10_000
PROJECTS = 10_000
BENCH_CLIENT = "bench"

# Subscribers at random within 900 m of the work, each with a 1 km circle: all concerned.
ADD_SUBSCRIBERS = text(
    """
    INSERT INTO alert_subscriptions (email, email_canonical, lang, geom, radius_m,
        wants_restrictions, wants_start_finish, wants_status, frequency, created_at, confirmed_at)
    SELECT 'bench' || n || '@example.jp', 'bench' || n || '@example.jp', CASE WHEN n % 5 = 0 THEN 'en' ELSE 'ja' END,
           ST_Project(ST_PointOnSurface(p.geom)::geography, random() * 900,
                      random() * 2 * pi())::geometry,
           1000, true, true, false, 'standard', now() - interval '1 hour',
           now() - interval '1 hour'
    FROM projects p, generate_series(1, :n) n WHERE p.id = :project_id
    """
)


def _wait_for(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the SMTP server on port {port} did not start")


def _clean(engine, project_id: int, restriction_ids: list[int]) -> None:
    with Session(engine) as s:
        s.execute(text("DELETE FROM alert_deliveries WHERE kind = 'alert' AND event_id IN "
                       "(SELECT id FROM outbox_events WHERE project_id = :p)"), {"p": project_id})  # fmt: skip
        s.execute(text("DELETE FROM alert_subscriptions WHERE email LIKE 'bench%@example.jp'"))
        s.execute(text("DELETE FROM outbox_events WHERE project_id = :p"), {"p": project_id})
        s.execute(
            text("DELETE FROM traffic_restrictions WHERE id = ANY(:ids)"), {"ids": restriction_ids}
        )
        s.commit()


def run(ctx):
    """Yield the alert figures, named alerts_*."""
    subscribers = ctx.size(SUBSCRIBERS)
    url = ctx.database(ctx.size(PROJECTS))
    app = create_app(
        {"DATABASE_URL": url, "PUBLIC_URL": "https://tracker.example.jp",
         "MAIL_FROM": "alerts@city.example.jp"}
    )  # fmt: skip
    sessions = app.extensions["db_sessionmaker"]
    engine = create_engine(url)
    with Session(engine) as s:
        project = s.scalars(
            select(Project)
            .where(Project.is_public, Project.kind == "road")
            .where(func.GeometryType(Project.geom).in_(["LINESTRING", "MULTILINESTRING"]))
            .limit(1)
        ).one()
        project_id = project.id
    restriction_ids = []
    try:
        with app.app_context():
            # Queue whatever earlier benches left in the outbox, so that only ours is timed.
            prepare(sessions, SendReport())
            with Session(engine) as s:
                s.execute(ADD_SUBSCRIBERS, {"n": subscribers, "project_id": project_id})
                s.commit()
                s.execute(text("ANALYZE alert_subscriptions"))
                s.commit()

            start = time.perf_counter()
            with Session(engine) as s:
                road = s.get(Project, project_id)
                # Its own section (the road's line), as staff draw it: matched by that line.
                restriction = add_restriction(
                    s, road, kind="closed", starts_on=date(2026, 12, 1), ends_on=date(2027, 1, 16),
                    days="weekdays", time_from="8:30", time_until="17:00",
                    section=to_shape(road.geom), description="ベンチマーク用の通行止め",
                )  # fmt: skip
                restriction_ids.append(restriction.id)
                s.commit()
            changed = time.perf_counter()
            report = SendReport()
            prepare(sessions, report)
            queued_at = time.perf_counter()
            yield "alerts_change_ms", round((changed - start) * 1000, 1)
            yield f"alerts_enqueue_ms_{subscribers}", round((queued_at - start) * 1000, 1)
            yield "alerts_enqueue_ms", round((queued_at - start) * 1000, 1)
            yield "alerts_queued", report.queued

            with tempfile.TemporaryDirectory() as tmp:
                maildir = Path(tmp) / "mail"  # made by the server as a Maildir
                port = free_port()
                # A mail server is another process, as it would be in production.
                server = subprocess.Popen(
                    [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                     "-c", "aiosmtpd.handlers.Mailbox", str(maildir)],
                )  # fmt: skip
                try:
                    _wait_for(port)
                    transport = SmtpTransport(parse_smtp_url(f"smtp://127.0.0.1:{port}"))
                    start = time.perf_counter()
                    sent = send_alerts(sessions, transport)
                    elapsed = time.perf_counter() - start
                finally:
                    server.terminate()
                    server.wait()
                received = sum(1 for _ in (maildir / "new").iterdir())
            with Session(engine) as s:
                waiting = s.scalar(
                    select(func.count()).where(
                        AlertDelivery.status == "waiting", AlertDelivery.kind == "alert"
                    )
                )
            yield "alerts_sent", sent.sent
            yield "alerts_received", received
            yield "alerts_left_waiting", waiting
            yield "alerts_send_per_s", round(sent.sent / elapsed, 1)
    finally:
        app.extensions["db_engine"].dispose()
        _clean(engine, project_id, restriction_ids)
        engine.dispose()
