"""Residents' reports: taking one report with a photo (POST /report/send, as the phone
sends it), and the staff triage list with 10,000 open reports."""

import io
import time
import uuid

from PIL import Image
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from bench.run import percentile, timed_ms
from tracker import create_app
from tracker.accounts.access import SESSION_KEY
from tracker.accounts.models import Department, User
from tracker.accounts.operations import start_login_session
from tracker.geo.geometry import CITY_CODE

REPORTS = 10_000
INTAKES = 60
MIYAJI = (131.11879, 32.937)


def phone_photo() -> bytes:
    """A 12-megapixel-like JPEG with EXIF, as a phone camera makes (smaller for speed)."""
    image = Image.effect_noise((2000, 1500), 60).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "BenchCam"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def run(ctx):
    """Yield report_intake_p95_ms and reports_triage_list_ms_<n>."""
    url = ctx.database(ctx.size(10_000))
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    photo = phone_photo()
    engine = create_engine(url)
    times = []
    for i in range(INTAKES):
        client = app.test_client()  # a new phone, from its own address: under the limits
        data = {
            "category": "road",
            "lon": str(MIYAJI[0] + (i % 10) * 0.001),
            "lat": str(MIYAJI[1] + (i // 10) * 0.001),
            "description": "ベンチ",
            "client_id": str(uuid.uuid4()),
            "photos": [(io.BytesIO(photo), "road.jpg", "image/jpeg")],
        }
        start = time.perf_counter()
        answer = client.post(
            "/report/send",
            data=data,
            content_type="multipart/form-data",
            environ_base={"REMOTE_ADDR": f"10.9.{i // 250}.{i % 250}"},
        )
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 201, answer.get_data(as_text=True)
    yield "report_intake_p95_ms", round(percentile(times, 95), 1)

    n = ctx.size(REPORTS)
    with Session(engine) as session:
        session.execute(
            text(
                """
                WITH points AS (
                    SELECT (ST_Dump(ST_GeneratePoints(geom, :n, 7))).geom AS geom
                    FROM city_boundaries WHERE code = :code
                ), numbered AS (
                    SELECT geom, row_number() OVER () AS i FROM points
                )
                INSERT INTO reports (category_code, geom, description, link_nonce, made_at,
                                     received_at, state_changed_at, state)
                SELECT (ARRAY['road','slope','tree','flooding','structure','river','other'])[1 + i % 7],
                       geom, 'ベンチの通報 ' || i, md5(i::text),
                       CAST(:at AS timestamptz) - make_interval(mins => i::int),
                       CAST(:at AS timestamptz) - make_interval(mins => i::int),
                       CAST(:at AS timestamptz), 'received'
                FROM numbered
                """
            ),
            {"n": n, "code": CITY_CODE, "at": "2026-12-01T00:00:00+09:00"},
        )
        user = User(
            login=f"bench-{uuid.uuid4().hex[:8]}",
            role="staff",
            password_hash="!",
            departments=list(session.scalars(select(Department))),
        )
        session.add(user)
        session.flush()
        sid = start_login_session(session, user)
        session.commit()
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE reports")
    client = app.test_client()
    with client.session_transaction() as flask_session:
        flask_session[SESSION_KEY] = sid

    def triage_list():
        answer = client.get("/staff/reports")
        assert answer.status_code == 200

    def triage_nearest():
        answer = client.get(f"/staff/reports?lon={MIYAJI[0]}&lat={MIYAJI[1]}")
        assert answer.status_code == 200

    yield f"reports_triage_list_ms_{n}", round(timed_ms(triage_list, repeat=10), 1)
    yield f"reports_triage_nearest_ms_{n}", round(timed_ms(triage_nearest, repeat=10), 1)
    # Leave the shared bench database as it was for the benches that follow.
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM reports")
        conn.exec_driver_sql("DELETE FROM report_intake_log")
    engine.dispose()
