"""Accounts and project writes at 10,000 projects: hashing, sign-in, API create and edit."""

import time

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bench.run import timed_ms
from tracker.accounts.models import Department
from tracker.accounts.operations import create_token, create_user
from tracker.accounts.passwords import hash_password
from tracker.projects.models import Project

PROJECTS = 10_000
PASSWORD = "bench password 1"


def run(ctx):
    """Yield the accounts and editing figures."""
    n = ctx.size(PROJECTS)
    url = ctx.database(n)
    engine = create_engine(url)
    with Session(engine) as session:
        # Every run gets its own login: the bench database is kept within one run.
        login = f"bench{time.time_ns()}"
        user = create_user(session, login, role="staff", password=PASSWORD)
        # Of every department the demo works name, so that any work may be changed.
        user.departments = list(session.scalars(select(Department)))
        token = create_token(session, user)
        project_id = session.scalar(select(Project.id).order_by(Project.id).limit(1))
        session.commit()
    engine.dispose()

    app = ctx.app(n)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    yield "password_hash_ms", round(timed_ms(lambda: hash_password(PASSWORD), repeat=9), 1)

    def sign_in():
        response = client.post("/login", data={"login": login, "password": PASSWORD})
        assert response.status_code == 302, response.status_code

    yield "login_ms", round(timed_ms(sign_in, repeat=9), 1)

    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [131.11879, 32.937]},
        "properties": {"name": "bench", "kind": "bridge", "department": "建設課"},
    }

    def create():
        response = client.post("/api/projects", json=feature, headers=headers)
        assert response.status_code == 201, response.get_json()

    yield f"api_create_ms_{n}", round(timed_ms(create), 1)

    state = {"etag": client.get(f"/api/projects/{project_id}").headers["ETag"], "n": 0}

    def edit():
        state["n"] += 1
        response = client.patch(
            f"/api/projects/{project_id}",
            json={"properties": {"description": f"bench edit {state['n']}"}},
            headers=headers | {"If-Match": state["etag"]},
        )
        assert response.status_code == 200, response.get_json()
        state["etag"] = response.headers["ETag"]

    yield f"api_patch_ms_{n}", round(timed_ms(edit), 1)
