"""A `flask send-alerts` killed with SIGKILL in the middle of a run, then run again: every
subscriber hears of every change once, but for at most one mail per killed sender (the one the
mail server had accepted when the sender died, before its mark was committed).

The senders are real processes on a committed database; the mail servers run in this process
and hold one mail's "accepted" answer, so that the kill falls in the worst moment.
"""

import os
import re
import subprocess
from collections import Counter
from datetime import date

import pytest
from shapely.geometry import LineString
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from config import ROOT
from tests.live_database import build_database, sibling_url
from tests.smtp_server import smtp_server
from tracker import create_app
from tracker.alerts.models import AlertSubscription
from tracker.alerts.operations import Choices, Target, confirm_subscription, request_subscription
from tracker.projects.models import Project
from tracker.projects.operations import create_project
from tracker.restrictions.operations import add_restriction

PUBLIC_URL = "https://tracker.example.jp"
MARK = re.compile(r"【規制(\d+)】")  # each change's description carries its number


@pytest.fixture(scope="module")
def crash_url(database_url):
    """A committed database of its own: the senders are other processes."""
    url = build_database(sibling_url(database_url, "mail_crash"))
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO departments (name) VALUES ('建設課')"))
    engine.dispose()
    return url


def make_changes(url: str, tmp_path, prefix: str, subscribers: int, changes: int) -> set:
    """Subscribe addresses to one road's restrictions (each at once), then make the changes.

    Returns every (address, change number) one mail is owed for."""
    app = create_app(
        {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "crash-secret",
         "UPLOAD_DIR": str(tmp_path), "PUBLIC_URL": PUBLIC_URL}
    )  # fmt: skip
    emails = [f"{prefix}{n:02}@example.jp" for n in range(subscribers)]
    engine = create_engine(url)
    with app.app_context(), Session(engine) as s:
        road = create_project(
            s, name=f"{prefix}の市道", kind="road", department="建設課",
            geometry=LineString([(131.04, 32.975), (131.043, 32.975)]),
        )  # fmt: skip
        for email in emails:
            request_subscription(
                s, email=email, target=Target(project_id=road.id),
                choices=Choices(("restrictions",), "immediate", "ja"), client=f"crash {email}",
            )  # fmt: skip
        s.flush()
        for sub in s.scalars(select(AlertSubscription).where(AlertSubscription.email.in_(emails))):
            confirm_subscription(s, sub)
        s.commit()
        for n in range(changes):
            add_restriction(
                s, s.get(Project, road.id), kind="lane", starts_on=date(2026, 12, 1),
                description=f"【規制{n:02}】片側交互通行",
            )  # fmt: skip
            s.commit()
    engine.dispose()
    app.extensions["db_engine"].dispose()
    return {(email, n) for email in emails for n in range(changes)}


def sender(url: str, smtp_url: str, tmp_path) -> subprocess.Popen:
    """Start `flask send-alerts` as the systemd timer does."""
    env = os.environ | {
        "DATABASE_URL": url,
        "SMTP_URL": smtp_url,
        "PUBLIC_URL": PUBLIC_URL,
        "MAIL_FROM": "alerts@city.example.jp",
        "SECRET_KEY": "crash-secret",
        "TRACKER_INSTANCE_DIR": str(tmp_path / "instance"),
    }
    return subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "flask"), "--app", "tracker", "send-alerts"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def run_to_the_end(url: str, smtp_url: str, tmp_path) -> str:
    process = sender(url, smtp_url, tmp_path)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output
    return output


def received(*mailboxes, prefix: str) -> Counter:
    """Count the mails each (address, change number) got, over all the servers."""
    counts: Counter = Counter()
    for mailbox in mailboxes:
        for message in mailbox.messages:
            if not message["To"].startswith(prefix):
                continue
            body = message.get_body(preferencelist=("plain",)).get_content()
            for number in MARK.findall(body):
                counts[message["To"], int(number)] += 1
    return counts


def kill_while_held(process: subprocess.Popen, mailbox) -> tuple[str, int]:
    """Wait for the held mail, SIGKILL its sender there, and let the server go on."""
    assert mailbox.holding.wait(180), process.stdout.read() if process.poll() is not None else ""
    process.kill()
    process.wait()
    mailbox.release.set()
    held = mailbox.messages[mailbox.hold_at - 1]
    body = held.get_body(preferencelist=("plain",)).get_content()
    return held["To"], int(MARK.search(body).group(1))


def test_a_killed_sender_sends_at_most_one_mail_again(crash_url, tmp_path):
    owed = make_changes(crash_url, tmp_path, "crash", subscribers=12, changes=6)
    with smtp_server() as (first, url):
        first.hold_at = 20
        held = kill_while_held(sender(crash_url, url, tmp_path), first)
    with smtp_server() as (again, url):
        run_to_the_end(crash_url, url, tmp_path)

    counts = received(first, again, prefix="crash")
    assert set(counts) == owed  # everyone heard of every change
    # The mail the server had accepted when the sender died went twice; nothing else did.
    assert {pair: n for pair, n in counts.items() if n > 1} == {held: 2}
    assert sum(counts.values()) == len(owed) + 1


def test_two_senders_one_killed_send_at_most_one_mail_again(crash_url, tmp_path):
    owed = make_changes(crash_url, tmp_path, "pair", subscribers=16, changes=5)
    with smtp_server() as (killed_box, killed_url), smtp_server() as (other_box, other_url):
        killed_box.hold_at = 5
        other_box.hold_at = 1  # held until the kill: both senders are at work at that moment
        other = sender(crash_url, other_url, tmp_path)
        # The second starts once the first has queued every mail and is sending: started
        # together, it may find the events still being matched and rightly leave them.
        assert other_box.holding.wait(180), other.stdout.read() if other.poll() is not None else ""
        doomed = sender(crash_url, killed_url, tmp_path)
        held = kill_while_held(doomed, killed_box)
        other_box.release.set()
        output, _ = other.communicate(timeout=300)
        assert other.returncode == 0, output
    with smtp_server() as (again, url):
        run_to_the_end(crash_url, url, tmp_path)

    counts = received(killed_box, other_box, again, prefix="pair")
    assert set(counts) == owed
    # One sender killed: one mail twice, the one it was waiting on; never more.
    assert {pair: n for pair, n in counts.items() if n > 1} == {held: 2}
    assert sum(counts.values()) == len(owed) + 1
