"""GET /api/indicators: measure 13's indicators as JSON, now or as of a date."""

from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, jsonify, url_for

from tracker.accounts.access import can_see_private
from tracker.core.db import get_session
from tracker.indicators.contract import Indicators, IndicatorsQuery
from tracker.indicators.queries import indicator_values
from tracker.serving.contract import READ, Answers, checked_query, contract

bp = Blueprint("indicators_api", __name__, url_prefix="/api")


def _number(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


@bp.get("/indicators")
@contract.validate(
    query=IndicatorsQuery,
    resp=Answers(200, Indicators, "The indicators."),
    security=READ,
    operation_id="listIndicators",
)
def list_indicators() -> Response:
    """Measure 13's indicators, now or at the end of a day: baseline, target, current value
    and the projects counted."""
    query = checked_query(IndicatorsQuery)
    as_of = query.as_of
    values = indicator_values(get_session(), as_of=as_of, include_private=can_see_private())
    items = []
    for v in values:
        item = {
            "code": v.code,
            "name": v.name,
            "unit": v.unit,
            "baseline": _number(v.baseline),
            "baseline_year": v.baseline_year,
            "target": _number(v.target),
            "target_year": v.target_year,
            "current": _number(v.current),
            "method": v.method,
            "derived": _number(v.derived),
            "official": None
            if v.official is None
            else {
                "fiscal_year": v.official.fiscal_year,
                "value": _number(v.official.value),
                "source": v.official.source,
                "sample": v.official.is_sample,
                "from_plan": v.official.from_plan,
            },
            "difference": _number(v.difference),
            "progress_percent": None if v.share is None else round(v.share, 1),
            "remaining": _number(v.remaining),
            "target_year_over": v.target_year_over,
            "target_met": v.target_met,
            "projects_counted": len(v.project_ids),
            "project_ids": v.project_ids,
        }
        if v.method != "recorded":
            args: dict[str, Any] = {"indicator": v.code, "status": "completed"}
            if as_of:
                args["as_of"] = as_of.isoformat()
            item["projects_url"] = url_for("meeting.meeting_map", **args)
        items.append(item)
    return jsonify(as_of=as_of.isoformat() if as_of else None, indicators=items)
