"""Command-line tasks for accounts: users and API tokens.

Passwords never come as arguments (they would stay in the shell's history and be seen by
anyone listing processes): they are typed at a hidden prompt, or read from standard input
when that is not a terminal, or generated and printed with --generate.
"""

import sys
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.accounts import audit
from tracker.accounts.models import ROLES, Department, User
from tracker.accounts.operations import (
    create_token,
    create_user,
    find_user,
    revoke_token,
    revoke_user_tokens,
)
from tracker.accounts.passwords import generate_password
from tracker.core import clock
from tracker.core.errors import BadInput
from tracker.core.limits import check_name

# A token lasts at most a year: one forgotten on an old laptop stops working on its own.
TOKEN_MAX_DAYS = 365


def register(app: Flask) -> None:
    """Add the account commands to `flask`."""
    app.cli.add_command(create_user_command)
    app.cli.add_command(create_token_command)
    app.cli.add_command(revoke_token_command)


def _session() -> Session:
    return current_app.extensions["db_sessionmaker"]()


def _read_password(generate: bool) -> str:
    if generate:
        return generate_password()
    if not sys.stdin.isatty():
        # A script pipes it in: the first line, without its line break.
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.ClickException("no password on standard input (or use --generate)")
        return password
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _departments(session: Session, names: tuple[str, ...]) -> list[Department]:
    known = {d.name: d for d in session.scalars(select(Department).order_by(Department.name))}
    unknown = [name for name in names if name not in known]
    if unknown:
        listed = ", ".join(known) or "(none yet)"
        raise click.ClickException(
            f"unknown department(s): {', '.join(unknown)}; known ones: {listed}"
        )
    return [known[name] for name in dict.fromkeys(names)]


def _check_email(session: Session, email: str) -> str:
    email = check_name("email", email, limit=254)
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or " " in email:
        raise BadInput(f"{email!r} is not an e-mail address", field="email")
    if session.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
        raise BadInput(f"{email!r} belongs to another account", field="email")
    return email


@click.command("create-user")
@with_appcontext
@click.argument("login")
@click.option("--role", type=click.Choice(list(ROLES)), required=True)
@click.option(
    "--department",
    "departments",
    multiple=True,
    help="A department (担当課) whose works the person may change; repeat for more.",
)
@click.option("--email", default=None, help="Where reset links and notices go.")
@click.option("--display-name", default="", help="The name shown to others.")
@click.option("--generate", is_flag=True, help="Make a random password and print it.")
def create_user_command(
    login: str,
    role: str,
    departments: tuple[str, ...],
    email: str | None,
    display_name: str,
    generate: bool,
) -> None:
    """Create a user who can sign in.

    The password is asked for twice at a hidden prompt, or read from standard input (one
    line) when that is not a terminal; --generate prints a random one instead.
    """
    with _session() as session:
        chosen = _departments(session, departments)
        try:
            address = _check_email(session, email) if email is not None else None
            password = _read_password(generate)
            user = create_user(
                session, login, role=role, password=password, display_name=display_name
            )
        except BadInput as exc:
            raise click.ClickException(str(exc)) from None
        user.email = address
        user.departments = chosen
        audit.record(session, "created", user=user, role=role, departments=[d.name for d in chosen])
        session.commit()
        click.echo(f"created {role} {user.login}")
    if generate:
        click.echo(f"password: {password}")


@click.command("create-token")
@with_appcontext
@click.argument("login")
@click.option("--name", required=True, help="What the token is for, e.g. 'QGIS on the works PC'.")
@click.option(
    "--days",
    type=click.IntRange(1, TOKEN_MAX_DAYS),
    default=90,
    show_default=True,
    help=f"How many days the token works (at most {TOKEN_MAX_DAYS}).",
)
def create_token_command(login: str, name: str, days: int) -> None:
    """Print a new API bearer token for a user (it is shown once; only its hash is kept)."""
    with _session() as session:
        user = find_user(session, login)
        if user is None:
            raise click.ClickException(f"no user {login!r}")
        try:
            token = create_token(
                session, user, name=name, expires_at=clock.now() + timedelta(days=days)
            )
        except BadInput as exc:
            raise click.ClickException(str(exc)) from None
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
