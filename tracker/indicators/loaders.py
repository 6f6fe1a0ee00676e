"""Load the sample yearly figures for the seismic-retrofit rates."""

import csv
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from tracker.core.clock import JST
from tracker.indicators.models import IndicatorFigure
from tracker.indicators.operations import record_figure


def load_sample_figures(session: Session, path: Path) -> str:
    """Load the sample figures (marked サンプル) once, each recorded at its stated date."""
    if session.scalar(select(exists().where(IndicatorFigure.is_sample.is_(True)))):
        return "sample indicator figures: already loaded"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        record_figure(
            session,
            indicator_code=row["indicator"],
            fiscal_year=int(row["fiscal_year"]),
            value=row["value"],
            source=row["source"],
            recorded_at=datetime.combine(date.fromisoformat(row["recorded_on"]), time(9), JST),
            is_sample=True,
        )
    return f"sample indicator figures: loaded {len(rows)}"
