"""The project form, and Japanese wording for refusals made by the operations."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, ValidationError

from tracker.geometry import GeometryRefused
from tracker.limits import DEPARTMENT_MAX, DESCRIPTION_MAX, NAME_MAX
from tracker.vocab import DATE_FIELDS, KINDS, STATUSES, kind_label


def _ends_after(start_field: str):
    def check(form, field):
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
    department = StringField(
        _l("担当課"),
        validators=[DataRequired(_l("担当課を入力してください"))],
        render_kw={"maxlength": DEPARTMENT_MAX},
    )
    public = BooleanField(_l("市民に公開する"), default=True)
    description = TextAreaField(_l("説明"), render_kw={"maxlength": DESCRIPTION_MAX})
    geometry = TextAreaField(
        _l("位置・形状（GeoJSON または WKT）"),
        validators=[DataRequired(_l("地図に描くか、GeoJSON / WKT を貼り付けてください"))],
    )
    plan_items = SelectMultipleField(_l("計画項目"), choices=[], validate_choice=True)
    indicators = SelectMultipleField(_l("成果指標"), choices=[], validate_choice=True)
    # The version the form was loaded at and the values it showed: a save against an older
    # version is refused, and the difference tells the person what changed meanwhile.
    version = HiddenField()
    loaded = HiddenField()

    def changes(self, geometry) -> dict:
        """Return the edited fields by their API names."""
        values = {name: self[name].data for name in ("name", "kind", *DATE_FIELDS)}
        values |= {
            "department": self.department.data,
            "public": bool(self.public.data),
            "description": self.description.data or "",
            "geometry": geometry,
            "plan_items": list(self.plan_items.data or []),
            "indicators": list(self.indicators.data or []),
        }
        return values


def geometry_refusal_text(error: GeometryRefused) -> str:
    """Say in Japanese why a geometry was refused."""
    details = error.details
    if error.reason == "missing":
        return _("位置・形状がありません。地図に描くか、GeoJSON / WKT を貼り付けてください。")
    if error.reason == "empty":
        return _("位置・形状が空です。")
    if error.reason == "invalid":
        return _(
            "形状が不正です（%(problem)s）。線が自分自身と交差している可能性があります。"
            "修正した形を地図に表示しました。確認して「修正した形を使う」を押してください。",
            problem=details.get("problem", ""),
        )
    if error.reason == "type":
        allowed = details.get("allowed", ())
        if "Point" in allowed:
            expected = _("点・線・面")
        else:
            expected = _("線（道路・舗装・護岸は延長で管理します）")
        return _(
            "「%(kind)s」には %(type)s の形は使えません。%(expected)s で描いてください。",
            kind=kind_label(details.get("kind")),
            type=details.get("type"),
            expected=expected,
        )
    if error.reason == "nesting":
        return _("位置・形状の入れ子が深すぎます（%(limit)d段まで）。", limit=details["limit"])
    if error.reason == "vertices":
        return _(
            "頂点が多すぎます（%(vertices)d点、上限%(limit)d点）。形を簡略化してください。",
            vertices=details["vertices"],
            limit=details["limit"],
        )
    if error.reason == "coordinates":
        return _("座標が経度・緯度になっていません（経度、緯度の順で指定してください）。")
    if error.reason == "outside":
        return _(
            "阿蘇市の区域から約 %(km).1f km 外れています（許容 %(tolerance)d m）。位置を確認してください。",
            km=details.get("distance_m", 0) / 1000,
            tolerance=details.get("tolerance_m", 0),
        )
    return _(
        "GeoJSON または WKT として読み取れません（%(problem)s）。",
        problem=details.get("problem", str(error)),
    )
