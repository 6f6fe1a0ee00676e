"""Command-line tasks for accounts: users and API tokens."""

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from tracker.accounts.models import ROLES
from tracker.accounts.operations import (
    create_token,
    create_user,
    find_user,
    revoke_token,
    revoke_user_tokens,
)
from tracker.accounts.passwords import generate_password
from tracker.core.errors import BadInput


def register(app: Flask) -> None:
    """Add the account commands to `flask`."""
    app.cli.add_command(create_user_command)
    app.cli.add_command(create_token_command)
    app.cli.add_command(revoke_token_command)


def _session() -> Session:
    return current_app.extensions["db_sessionmaker"]()


@click.command("create-user")
@with_appcontext
@click.argument("login")
@click.option("--role", type=click.Choice(list(ROLES)), required=True)
@click.option("--password", help="The password; a random one is printed when left out.")
@click.option("--display-name", default="", help="The name shown to others.")
def create_user_command(login: str, role: str, password: str | None, display_name: str) -> None:
    """Create a user who can sign in."""
    generated = password is None
    password = generate_password() if password is None else password
    with _session() as session:
        try:
            user = create_user(
                session, login, role=role, password=password, display_name=display_name
            )
        except BadInput as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(f"created {role} {user.login}")
    if generated:
        click.echo(f"password: {password}")


@click.command("create-token")
@with_appcontext
@click.argument("login")
def create_token_command(login: str) -> None:
    """Print a new API bearer token for a user (it is shown once; only its hash is kept)."""
    with _session() as session:
        user = find_user(session, login)
        if user is None:
            raise click.ClickException(f"no user {login!r}")
        token = create_token(session, user)
        session.commit()
    click.echo(token)


@click.command("revoke-token")
@with_appcontext
@click.argument("token", required=False)
@click.option("--login", help="Revoke every token of this user instead.")
def revoke_token_command(token: str | None, login: str | None) -> None:
    """Revoke one API token, or all tokens of a user with --login."""
    if (token is None) == (login is None):
        raise click.UsageError("give either a TOKEN or --login LOGIN")
    with _session() as session:
        if login is not None:
            user = find_user(session, login)
            if user is None:
                raise click.ClickException(f"no user {login!r}")
            count = revoke_user_tokens(session, user)
        elif token is not None:
            count = int(revoke_token(session, token))
            if not count:
                raise click.ClickException("no live token matches")
        else:
            raise click.UsageError("give either a TOKEN or --login LOGIN")
        session.commit()
    click.echo(f"revoked {count} token(s)")
