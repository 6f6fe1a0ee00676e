"""The meeting filter said in words, for the list's note and the printed sheet."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.translate import gettext as _
from tracker.plan.models import Indicator, PlanItem
from tracker.plan.names import plan_name
from tracker.projects.queries import ProjectFilter
from tracker.words.formatting import fiscal_year_label
from tracker.words.vocab import kind_label, status_label


@dataclass(frozen=True)
class Condition:
    """One condition of the filter: what it is about, and its values in words.

    `data` marks values that are names from the projects (Japanese in every language), as
    opposed to words of the interface and the plan's names, said in the reader's language.
    """

    label: str
    values: tuple[str, ...]
    data: bool = False


def describe_filter(session: Session, filt: ProjectFilter) -> list[Condition]:
    """Return the filter's conditions in the reader's language; the date is said elsewhere."""
    conditions = []
    if filt.kinds:
        conditions.append(Condition(_("種別"), tuple(kind_label(k) for k in filt.kinds)))
    if filt.statuses:
        conditions.append(Condition(_("状況"), tuple(status_label(s) for s in filt.statuses)))
    if filt.plan_items:
        conditions.append(Condition(_("計画項目"), _names(session, PlanItem, filt.plan_items)))
    if filt.indicators:
        conditions.append(Condition(_("成果指標"), _names(session, Indicator, filt.indicators)))
    if filt.departments:
        conditions.append(Condition(_("担当課"), tuple(filt.departments), data=True))
    if filt.fiscal_years:
        conditions.append(
            Condition(_("年度（予定期間）"), tuple(fiscal_year_label(y) for y in filt.fiscal_years))
        )
    if filt.name_search:
        conditions.append(Condition(_("事業名に含む語"), (filt.name_search,), data=True))
    return conditions


def _names(
    session: Session, model: type[PlanItem] | type[Indicator], codes: list[str]
) -> tuple[str, ...]:
    names = dict(
        session.execute(select(model.code, model.name).where(model.code.in_(codes))).tuples().all()
    )
    return tuple(plan_name(code, names[code]) if code in names else code for code in codes)
