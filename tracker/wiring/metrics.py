"""/metrics: the app's figures in Prometheus' text format, for the city's monitoring.

Open to the addresses of METRICS_ALLOW (this machine by default) and to a signed-in admin
or viewer, or their API token; anyone else gets 404, as if there were nothing here. Besides
what the workers count (tracker.serving.metrics), a scrape reads from the database what
no single worker knows: the depth and age of the outbox and the fate of the alert mails.
"""

import ipaddress
from collections.abc import Iterator, Sequence
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session, sessionmaker

from tracker.accounts.access import current_user
from tracker.alerts.models import AlertDelivery
from tracker.core import clock
from tracker.core.db import replica_verdict
from tracker.imports.models import JOB_KINDS, JOB_STATES, ImportJob
from tracker.outbox.models import OutboxEvent
from tracker.serving.metrics import scrape_registry

bp = Blueprint("metrics", __name__)

READERS = ("admin", "viewer")


def _allowed() -> bool:
    user = current_user()
    if user is not None and user.role in READERS:
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in current_app.config["METRICS_ALLOW"])


class DatabaseFigures(Collector):
    """Figures read from the database at each scrape."""

    def __init__(self, sessionmaker: "sessionmaker[Session]") -> None:
        self.sessionmaker = sessionmaker

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Read the outbox and the mail queue."""
        with self.sessionmaker() as session:
            depth, oldest = session.execute(
                select(func.count(), func.min(OutboxEvent.occurred_at)).where(
                    OutboxEvent.handled_at.is_(None)
                )
            ).one()
            mails = session.execute(
                select(
                    AlertDelivery.status,
                    func.count(),
                    func.count().filter(AlertDelivery.attempts > 0),
                ).group_by(AlertDelivery.status)
            ).all()
            jobs = session.execute(
                select(ImportJob.kind, ImportJob.state, func.count()).group_by(
                    ImportJob.kind, ImportJob.state
                )
            ).all()
            oldest_job = session.scalar(
                select(func.min(ImportJob.created_at)).where(ImportJob.state == "queued")
            )
        yield from self._import_jobs(jobs, oldest_job)
        yield GaugeMetricFamily(
            "tracker_outbox_unhandled_events", "Changes not yet matched to alerts", value=depth
        )
        age = (clock.now() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "tracker_outbox_oldest_event_age_seconds",
            "Age of the oldest change not yet matched to alerts",
            value=age,
        )
        family = GaugeMetricFamily(
            "tracker_alert_mails",
            "Alert mails by state: sent, failed, waiting, retrying (waiting after a refusal)",
            labels=["state"],
        )
        states = {"sent": 0, "failed": 0, "waiting": 0, "retrying": 0, "cancelled": 0}
        for status, count, tried in mails:
            if status == "waiting":
                states["retrying"] = tried
                count -= tried
            states[status] = count
        for state, count in states.items():
            family.add_metric([state], count)
        yield family

    @staticmethod
    def _import_jobs(
        counts: Sequence[Row[tuple[str, str, int]]], oldest: datetime | None
    ) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "tracker_import_jobs",
            "Import jobs (check or import) by state: queued, running, done, failed, expired",
            labels=["kind", "state"],
        )
        found = {(kind, state): count for kind, state, count in counts}
        for kind in sorted(JOB_KINDS):
            for state in sorted(JOB_STATES):
                family.add_metric([kind, state], found.get((kind, state), 0))
        yield family
        yield GaugeMetricFamily(
            "tracker_import_oldest_queued_job_age_seconds",
            "Age of the oldest import job no worker has taken yet (is the worker running?)",
            value=(clock.now() - oldest).total_seconds() if oldest is not None else 0.0,
        )


@bp.get("/metrics")
def metrics() -> Response:
    """Answer the figures in Prometheus' text format."""
    if not _allowed():
        abort(404)
    replica_verdict()  # the replica's figures as of now (checked again if out of date)
    from_database = CollectorRegistry(auto_describe=True)
    from_database.register(DatabaseFigures(current_app.extensions["db_sessionmaker"]))
    body = generate_latest(scrape_registry()) + generate_latest(from_database)
    response = Response(body, mimetype=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response
