"""Load the plan catalogue, the city's geodata and the sample projects, each only once;
the designated shelters are brought up to date with their file on every run."""

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from sqlalchemy import create_engine, exists, select
from sqlalchemy.orm import Session

from tracker.city.models import CityBoundary, Place
from tracker.core import migrate, site
from tracker.core.clock import JST
from tracker.core.dbadmin import recreate_database
from tracker.core.errors import BadInput
from tracker.facilities.models import Facility
from tracker.facilities.operations import FacilityRecord, sync_facilities
from tracker.geo.geometry import CITY_CODE
from tracker.indicators.loaders import load_sample_figures
from tracker.plan.models import Indicator, PlanItem
from tracker.projects.departments import add_departments_of_works
from tracker.projects.history import append_past_status
from tracker.projects.models import Project
from tracker.projects.operations import create_project
from tracker.restrictions.operations import load_sample_restrictions
from tracker.words.vocab import DATE_FIELDS

SHELTER_SOURCE = "出典：国土地理院（指定緊急避難場所・指定避難所データ）"


def load_all(session: Session, geodata_dir: str, *, samples: bool = True) -> Iterator[str]:
    """Load everything that is not loaded yet, saying what was done.

    Without `samples` (a production install), or once an installation said it keeps none,
    only the city's own data is loaded: the plan, the boundary, the places and the shelters.
    """
    root = Path(geodata_dir)
    yield load_plan_catalogue(session, root / "plan_catalogue.json")
    yield load_city(session, root)
    yield load_facilities(session, root / "aso_shelters_gsi.csv")
    if not samples:
        site.turn_on(session, site.NO_SAMPLES, "installed without")
    if site.is_set(session, site.NO_SAMPLES):
        yield "sample data: none in this installation"
        return
    yield load_sample_projects(session, root / "sample_projects.geojson")
    yield load_departments(session)
    yield load_sample_restrictions(session, root / "sample_restrictions.csv")
    yield load_sample_figures(session, root / "sample_indicator_figures.csv")


def fresh_city_database(url: str, geodata_dir: str | Path) -> None:
    """Create the database at `url` anew (dropping any there), run the migrations and load
    the plan catalogue, the boundary, the places and the shelters: for tests and benches."""
    recreate_database(url)
    migrate.upgrade(url)
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            root = Path(geodata_dir)
            load_plan_catalogue(session, root / "plan_catalogue.json")
            load_city(session, root)
            load_facilities(session, root / "aso_shelters_gsi.csv")
            session.commit()
    finally:
        engine.dispose()


def load_plan_catalogue(session: Session, path: Path) -> str:
    """Load policies, measures, initiatives, 施策 and indicators from the catalogue file."""
    if session.scalar(select(exists().where(PlanItem.code == "p1"))):
        return "plan catalogue: already loaded"
    data = json.loads(path.read_text(encoding="utf-8"))
    count = 0
    for policy_data in data["policies"]:
        policy = PlanItem(
            code=policy_data["code"],
            level="policy",
            number=policy_data["number"],
            name=policy_data["name"],
            title=policy_data["title"],
        )
        session.add(policy)
        count += 1
        for measure_data in policy_data["measures"]:
            measure = PlanItem(
                code=measure_data["code"],
                level="measure",
                number=measure_data["number"],
                name=measure_data["name"],
                department=measure_data.get("department"),
                parent=policy,
            )
            session.add(measure)
            count += 1
            for number, name in enumerate(measure_data.get("initiatives", []), start=1):
                session.add(
                    PlanItem(
                        code=f"{measure.code}.i{number}",
                        level="initiative",
                        number=number,
                        name=name,
                        parent=measure,
                    )
                )
                count += 1
            for number, item in enumerate(measure_data.get("shisaku", []), start=1):
                session.add(
                    PlanItem(
                        code=f"{measure.code}.s{number}",
                        level="shisaku",
                        number=number,
                        name=item["name"],
                        content=item["content"],
                        effect=item["effect"],
                        activities=item["activities"],
                        parent=measure,
                    )
                )
                count += 1
            for number, item in enumerate(measure_data.get("indicators", []), start=1):
                session.add(
                    Indicator(
                        code=item["code"],
                        measure=measure,
                        number=number,
                        name=item["name"],
                        unit=item["unit"],
                        baseline=item["baseline"],
                        baseline_label=item["baseline_label"],
                        baseline_year=data["baseline_year"],
                        target=item["target"],
                        target_label=item["target_label"],
                        target_year=data["target_year"],
                    )
                )
    session.flush()
    return f"plan catalogue: loaded {count} plan items"


def load_city(session: Session, root: Path) -> str:
    """Load the city boundary and the named places."""
    if session.scalar(select(exists().where(CityBoundary.code == CITY_CODE))):
        return "city boundary and places: already loaded"
    feature = json.loads((root / "aso_boundary.geojson").read_text(encoding="utf-8"))["features"][0]
    polygon = shape(feature["geometry"])
    if isinstance(polygon, Polygon):
        polygon = MultiPolygon([polygon])
    session.add(
        CityBoundary(
            code=feature["properties"]["code"],
            name=feature["properties"]["name"],
            source=feature["properties"]["attribution"],
            geom=from_shape(polygon, srid=4326),
        )
    )
    with (root / "aso_places.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        session.add(
            Place(
                name=row["name"],
                kind=row["kind"],
                inside_city=row["inside_city"] == "1",
                source="「国土数値情報（鉄道データ）」（国土交通省）; © OpenStreetMap contributors",
                geom=from_shape(Point(float(row["lon"]), float(row["lat"])), srid=4326),
            )
        )
    session.flush()
    return f"city boundary and places: loaded 1 boundary, {len(rows)} places"


def read_facility_records(path: Path) -> list[FacilityRecord]:
    """Read the GSI designated shelters file: one record per row, keyed by its 共通ID.

    Optional columns `designations` and `hazards` (codes separated by spaces) and `capacity`
    carry what the source says; where they are missing or empty the source does not say.
    """
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    records = []
    for number, row in enumerate(rows, start=2):
        try:
            records.append(
                FacilityRecord(
                    gsi_common_id=row["gsi_common_id"].strip(),
                    name=row["name"].strip(),
                    address=(row.get("address") or "").strip() or None,
                    lon=float(row["lon"]),
                    lat=float(row["lat"]),
                    designations=tuple((row.get("designations") or "shelter").split()),
                    hazards=tuple(row["hazards"].split()) if row.get("hazards") else None,
                    capacity=int(row["capacity"]) if row.get("capacity") else None,
                    position_note=(row.get("note") or "").strip(),
                )
            )
        except (KeyError, ValueError) as error:
            raise BadInput(f"{path.name} line {number}: cannot read {error}") from None
    return records


def load_facilities(session: Session, path: Path) -> str:
    """Bring the designated shelters up to date with the GSI file; run again after it changes."""
    counts = sync_facilities(session, read_facility_records(path), source=SHELTER_SOURCE)
    if not (counts["added"] or counts["changed"] or counts["withdrawn"]):
        return f"facilities: up to date ({counts['unchanged']})"
    return (
        f"facilities: {counts['added']} added, {counts['changed']} changed, "
        f"{counts['withdrawn']} withdrawn, {counts['unchanged']} unchanged"
    )


def load_sample_projects(session: Session, path: Path) -> str:
    """Load the sample recovery projects, with a status history that follows their dates."""
    if session.scalar(select(exists().where(Project.is_sample.is_(True)))):
        return "sample projects: already loaded"
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    # Works done on a designated shelter name it by its GSI 共通ID.
    facilities = dict(session.execute(select(Facility.gsi_common_id, Facility.id)).tuples().all())
    for feature in features:
        props = feature["properties"]
        dates: dict[str, Any] = {key: _date(props[key]) for key in DATE_FIELDS}
        steps = sample_history(props["status"], props["progress"], dates)
        first_at, first_status, first_progress = steps[0]
        project = create_project(
            session,
            name=props["name"],
            kind=props["kind"],
            geometry=shape(feature["geometry"]),
            department=props["department"],
            status=first_status,
            progress=first_progress,
            is_public=props["public"],
            description=props["description"],
            is_sample=True,
            facility_id=facilities.get(props.get("facility")),
            plan_item_codes=props["plan_items"],
            indicator_codes=props["indicators"],
            created_at=first_at,
            **dates,
        )
        for recorded_at, status, progress in steps[1:]:
            append_past_status(
                session, project.id, status=status, progress=progress, recorded_at=recorded_at
            )
    return f"sample projects: loaded {len(features)}"


def load_departments(session: Session) -> str:
    """Add the departments the works name to the departments table, where missing."""
    added = add_departments_of_works(session)
    if not added:
        return "departments: up to date"
    return f"departments: added {len(added)} ({', '.join(added)})"


# The day the sample projects' statuses describe.
SAMPLES_AS_OF = date(2026, 11, 1)


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=JST)


def sample_history(status: str, progress: int, dates: dict) -> list[tuple[datetime, str, int]]:
    """Return plausible (when, status, progress) steps that end in the given state."""
    registered = _at((dates["planned_start"] or date(2021, 4, 1)) - timedelta(days=120))
    if status == "planned":
        return [(registered, "planned", 0)]
    steps = [(registered, "planned", 0), (registered + timedelta(days=30), "design", 0)]
    if status == "design":
        return [*steps[:1], (steps[1][0], "design", progress)]
    started = _at(dates["actual_start"])
    steps.append((started, "construction", 5))
    if status == "construction" and progress > 5:
        # Progress reported part-way between the start and the date the samples describe.
        until = _at(min(dates["planned_end"] or SAMPLES_AS_OF, SAMPLES_AS_OF))
        reported = max(started + timedelta(days=1), started + (until - started) * progress / 100)
        steps.append((reported, "construction", progress))
    elif status == "suspended":
        steps.append((started + timedelta(days=60), "suspended", progress))
    elif status == "completed":
        ended = _at(dates["actual_end"])
        steps.append((started + (ended - started) / 2, "construction", 50))
        steps.append((ended, "completed", 100))
    return steps
