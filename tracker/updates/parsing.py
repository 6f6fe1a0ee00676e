"""Read an update's fields as sent (JSON or a form with photo files), in words when wrong;
`tracker.updates.contract` declares which field is read how."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from werkzeug.datastructures import FileStorage

from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.serving.input_guards import MAX_DB_INTEGER
from tracker.updates.photos import MAX_PHOTOS, PreparedPhoto, prepare_photo


@dataclass
class UpdateInput:
    """The fields of one update, parsed but not yet checked against the project."""

    status: str
    progress: int
    note: str = ""
    client_id: str | None = None
    position: tuple[float, float] | None = None  # (lon, lat)
    actual_end: date | None = None
    # When it was seen on site (the phone's clock when queued); None: when it arrives.
    observed_at: datetime | None = None
    # The project version the sender's form showed; None: not checked (API scripts).
    base_version: int | None = None
    photos: list[PreparedPhoto] = field(default_factory=list)

    def status_fields(self) -> dict:
        """Return the keyword arguments of append_status() (everything but the photos)."""
        return {name: value for name, value in self.__dict__.items() if name != "photos"}


def read_instant(value: Any) -> datetime | None:
    """Read an ISO 8601 time with its offset (2026-11-29T10:42:05+09:00, or …Z)."""
    if value is None or value == "":
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        instant = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadInput(
            _("現場の時刻を 2026-11-29T10:42:00+09:00 の形で送ってください"), field="observed_at"
        ) from None
    if instant.tzinfo is None:
        raise BadInput(_("現場の時刻に時差（+09:00 など）がありません"), field="observed_at")
    return instant


def read_version(value: Any) -> int | None:
    """Read the project version a form showed (1 to 2³¹−1); empty means none."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        value = None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not 0 < number <= MAX_DB_INTEGER:
        raise BadInput(
            _("事業の版が読み取れません。画面を開き直してください"), field="base_version"
        )
    return number


def read_position(value: Any) -> tuple[float, float] | None:
    """Read {"lat": …, "lon": …} as (lon, lat); none means none."""
    if value is None:
        return None
    if not isinstance(value, dict) or "lat" not in value or "lon" not in value:
        raise BadInput(_('{"lat": …, "lon": …} の形で送ってください'), field="position")
    return _number(value["lon"]), _number(value["lat"])


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise BadInput(_("緯度・経度は数値で指定してください"), field="position")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise BadInput(_("緯度・経度は数値で指定してください"), field="position") from None


def read_form_progress(value: Any) -> int:
    """Read a form's progress (0–100 as text), refusing an empty or non-numeric one."""
    if not isinstance(value, str) or value.strip() == "":
        raise BadInput(_("進捗（0〜100）を入れてください"), field="progress")
    try:
        return int(value.strip())
    except ValueError:
        raise BadInput(_("進捗は0〜100の整数で入れてください"), field="progress") from None


def read_photos(value: Any) -> list[PreparedPhoto]:
    """Check a form's photo files (one or several), refusing too many or unreadable ones."""
    sent = value if isinstance(value, list) else [value]
    # A form with an empty file input still sends one part with no name and no bytes.
    files = [f for f in sent if isinstance(f, FileStorage) and f.filename]
    if len(files) > MAX_PHOTOS:
        raise BadInput(_("写真は1回に%(n)d枚までです", n=MAX_PHOTOS), field="photos")
    return [prepare_photo(f.read(), f.filename or "") for f in files]
