"""Field updates at 100,000 projects: the staff "near me" list, one recorded update,
eight people posting to one project at once, and preparing a 12-megapixel photo."""

import io
import secrets
import threading
import time
import uuid

from PIL import Image
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bench.run import percentile, timed_ms
from tracker import create_app
from tracker.accounts.access import hash_token
from tracker.accounts.models import ApiToken, Department, User
from tracker.projects.history import append_status
from tracker.projects.models import Project
from tracker.projects.queries import nearest_projects
from tracker.updates.photos import prepare_photo

PROJECTS = 100_000
MIYAJI = (131.11879, 32.937)
SENDERS = 8


def run(ctx):
    """Yield the field update figures, named upd_*."""
    n = ctx.size(PROJECTS)
    url = ctx.database(n)
    engine = create_engine(url)
    size = f"{n // 1000}k" if n >= 1000 else str(n)
    with Session(engine) as session:

        def near_me(name: str = ""):
            # What the staff "near me" list and its name search ask of the database.
            query = nearest_projects(
                MIYAJI,
                radius_m=None if name else 10_000,
                limit=10,
                name=name,
                include_private=True,
            )
            return lambda: session.execute(query).all()

        yield f"upd_near_me_{size}_ms", round(timed_ms(near_me()), 2)
        yield f"upd_search_name_{size}_ms", round(timed_ms(near_me("橋")), 2)
        project = session.scalars(select(Project).where(Project.status == "design").limit(1)).one()

        def one_update():
            with session.begin_nested() as savepoint:
                append_status(session, project.id, status="design", progress=project.progress)
                savepoint.rollback()

        yield "upd_record_update_ms", round(timed_ms(one_update), 2)
        session.rollback()

        # Of every department the demo works name, so that its updates are taken.
        user = User(
            login=f"bench-{uuid.uuid4().hex[:8]}",
            role="staff",
            password_hash="!",
            departments=list(session.scalars(select(Department))),
        )
        session.add(user)
        session.flush()
        token = secrets.token_urlsafe(24)
        session.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
        project_id = project.id
        session.commit()

    app = create_app({"DATABASE_URL": url, "TESTING": True})
    headers = {"Authorization": f"Bearer {token}"}

    def at_once(round_name: str):
        barrier = threading.Barrier(SENDERS)
        latencies: list[float] = []
        codes: list[int] = []

        def send(i):
            client = app.test_client()
            barrier.wait()
            start = time.perf_counter()
            answer = client.post(
                f"/api/projects/{project_id}/updates",
                json={"status": "design", "progress": 50, "note": f"bench {round_name} {i}"},
                headers=headers,
            )
            latencies.append((time.perf_counter() - start) * 1000)
            codes.append(answer.status_code)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(SENDERS)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return (time.perf_counter() - start) * 1000, latencies, codes

    at_once("warm-up")  # opens the pool's connections and loads what a first request loads
    total_ms, latencies, codes = at_once("measured")
    yield f"upd_{SENDERS}_at_once_total_ms", round(total_ms, 1)
    yield f"upd_{SENDERS}_at_once_p95_ms", round(percentile(latencies, 95), 1)
    yield f"upd_{SENDERS}_at_once_recorded", codes.count(201)
    app.extensions["db_engine"].dispose()
    engine.dispose()

    photo = io.BytesIO()
    Image.effect_noise((4000, 3000), 40).convert("RGB").save(photo, "JPEG", quality=90)
    data = photo.getvalue()
    yield "upd_photo_12mp_bytes", len(data)
    yield "upd_photo_12mp_prepare_ms", round(timed_ms(lambda: prepare_photo(data, "a.jpg"), 5), 1)
