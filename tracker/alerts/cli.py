"""The send-alerts command: run it every minute or so (cron or a systemd timer)."""

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from tracker.alerts.models import AlertDelivery
from tracker.alerts.sending import send_alerts
from tracker.core.smtp import configured_transport


def init_app(app: Flask) -> None:
    """Add the command to the app's CLI."""
    app.cli.add_command(send_alerts_command)


@click.command("send-alerts")
@with_appcontext
def send_alerts_command() -> None:
    """Match new changes to subscriptions and send the mails that are due over SMTP_URL."""
    try:
        transport = configured_transport(current_app.config)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    sessions = current_app.extensions["db_sessionmaker"]
    report = send_alerts(sessions, transport)
    for line in report.lines():
        click.echo(line)
    if transport is None:
        with sessions() as session:
            waiting = session.scalar(select(func.count()).where(AlertDelivery.status == "waiting"))
        click.echo(f"SMTP_URL is not set: nothing left this machine; {waiting} mails wait")
    if report.stopped:
        raise click.ClickException(f"the mail server could not be used: {report.stopped}")
