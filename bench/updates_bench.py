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
from tracker.accounts.models import ApiToken, User
from tracker.projects.models import Project
from tracker.updates.operations import record_status_update
from tracker.updates.photos import prepare_photo
from tracker.updates.queries import projects_near

PROJECTS = 100_000
MIYAJI = (131.11879, 32.937)
SENDERS = 8


def run(ctx):
    """Yield the field update figures, named upd_*."""
    url = ctx.database(PROJECTS)
    engine = create_engine(url)
    lon, lat = MIYAJI
    with Session(engine) as session:
        yield (
            "upd_near_me_100k_ms",
            round(timed_ms(lambda: projects_near(session, lon=lon, lat=lat)), 2),
        )
        yield (
            "upd_search_name_100k_ms",
            round(timed_ms(lambda: projects_near(session, lon=lon, lat=lat, name="橋")), 2),
        )
        project = session.scalars(select(Project).where(Project.status == "design").limit(1)).one()

        def one_update():
            with session.begin_nested() as savepoint:
                record_status_update(
                    session, project, user=None, status="design", progress=project.progress
                )
                savepoint.rollback()

        yield "upd_record_update_ms", round(timed_ms(one_update), 2)
        session.rollback()

        user = User(login=f"bench-{uuid.uuid4().hex[:8]}", role="staff", password_hash="!")
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
