"""The project form."""

from collections.abc import Callable
from typing import Any

from flask_wtf import FlaskForm
from shapely.geometry.base import BaseGeometry
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)

# SelectChoice came in WTForms 3.3; types-WTForms does not have it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, ValidationError

from tracker.core.limits import DESCRIPTION_MAX, NAME_MAX
from tracker.core.translate import gettext as _
from tracker.core.translate import lazy_gettext as _l
from tracker.projects.models import Project
from tracker.projects.register import AMOUNT_FIELDS, REGISTER_FIELDS
from tracker.words.vocab import DATE_FIELDS, FUNDING_SOURCES, KINDS, STATUSES


def _ends_after(start_field: str) -> Callable[[Any, Any], None]:
    def check(form: Any, field: Any) -> None:
        start = form[start_field].data
        if start and field.data and field.data < start:
            raise ValidationError(_("開始日より前の日付です"))

    return check


class ProjectForm(FlaskForm):
    """Every field of a project that staff set; status and progress only when creating."""

    name = StringField(
        _l("事業名"),
        validators=[DataRequired(_l("事業名を入力してください"))],
        render_kw={"maxlength": NAME_MAX},
    )
    kind = SelectField(_l("種別"), choices=[SelectChoice(k, _l(v)) for k, v in KINDS.items()])
    status = SelectField(
        _l("状況"),
        choices=[SelectChoice(k, _l(v)) for k, v in STATUSES.items()],
        default="planned",
    )
    progress = IntegerField(
        _l("進捗（%）"),
        default=0,
        validators=[
            InputRequired(_l("進捗を入力してください")),
            NumberRange(0, 100, _l("0〜100 の整数で入力してください")),
        ],
    )
    planned_start = DateField(_l("予定開始日"), validators=[Optional()])
    planned_end = DateField(_l("予定終了日"), validators=[Optional(), _ends_after("planned_start")])
    actual_start = DateField(_l("実績開始日"), validators=[Optional()])
    actual_end = DateField(_l("実績終了日"), validators=[Optional(), _ends_after("actual_start")])
    # The departments the person may give a work, filled per request; one sent that is not
    # among them reaches the operations, which refuse it saying who may (403).
    department = SelectField(
        _l("担当課"),
        choices=[],
        validators=[DataRequired(_l("担当課を選んでください"))],
        validate_choice=False,
    )
    public = BooleanField(_l("市民に公開する"), default=True)
    description = TextAreaField(_l("説明"), render_kw={"maxlength": DESCRIPTION_MAX})
    geometry = TextAreaField(
        _l("位置・形状（GeoJSON または WKT）"),
        validators=[DataRequired(_l("地図に描くか、GeoJSON / WKT を貼り付けてください"))],
    )
    # Works done on a designated shelter link to it; the choices are filled per request.
    facility_id = SelectField(
        _l("施設（指定避難所での工事のとき）"), choices=[], default="", validate_choice=True
    )
    # The works register; amounts are checked (whole yen, not negative) by the operations,
    # which refuse them for the API and imports alike.
    planned_cost = StringField(_l("事業費（円）"))
    contract_amount = StringField(_l("契約額（円）"))
    contractor = StringField(_l("施工業者"))
    spent_amount = StringField(_l("執行額（円）"))
    funding = SelectField(
        _l("財源"),
        choices=[SelectChoice("", _l("（未入力）"))]
        + [SelectChoice(k, _l(v)) for k, v in FUNDING_SOURCES.items()],
        default="",
    )
    responsible_section = StringField(_l("担当係"))
    plan_items = SelectMultipleField(_l("計画項目"), choices=[], validate_choice=True)
    indicators = SelectMultipleField(_l("成果指標"), choices=[], validate_choice=True)
    # The version the form was loaded at and the values it showed: a save against an older
    # version is refused, and the difference tells the person what changed meanwhile.
    version = HiddenField()
    loaded = HiddenField()

    def changes(self, geometry: BaseGeometry | None) -> dict:
        """Return the edited fields by their API names."""
        values = {name: self[name].data for name in ("name", "kind", *DATE_FIELDS)}
        values |= {
            "department": self.department.data,
            "public": bool(self.public.data),
            "description": self.description.data or "",
            "geometry": geometry,
            "plan_items": list(self.plan_items.data or []),
            "indicators": list(self.indicators.data or []),
            "facility_id": int(self.facility_id.data) if self.facility_id.data else None,
        }
        values |= self.register()
        return values

    def register(self) -> dict:
        """Return the works-register fields as entered (checked by the operations)."""
        return {name: self[name].data or None for name in REGISTER_FIELDS}

    def load_register(self, project: Project) -> None:
        """Show a project's register values, amounts with thousands separators."""
        for name in REGISTER_FIELDS:
            value = getattr(project, name)
            if value is None:
                value = ""
            elif name in AMOUNT_FIELDS:
                value = f"{value:,}"
            self[name].data = value
