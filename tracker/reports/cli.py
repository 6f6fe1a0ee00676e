"""The send-report-mails command: run it every minute, beside send-alerts."""

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from tracker.core.smtp import configured_transport
from tracker.reports.mails import send_report_mails
from tracker.reports.operations import purge_intake_log


def init_app(app: Flask) -> None:
    """Add the command to the app's CLI."""
    app.cli.add_command(send_report_mails_command)


@click.command("send-report-mails")
@with_appcontext
def send_report_mails_command() -> None:
    """Send the reporters' mails that wait (confirmations, changes of state) over SMTP_URL."""
    try:
        transport = configured_transport(current_app.config)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    sessions = current_app.extensions["db_sessionmaker"]
    with sessions() as session, session.begin():
        purge_intake_log(session)
    count = send_report_mails(sessions, transport)
    click.echo(f"report mails sent={count.sent} failed={count.failed}")
    if transport is None:
        click.echo("SMTP_URL is not set: nothing left this machine")
    if count.stopped:
        raise click.ClickException(f"the mail server could not be used: {count.stopped}")
