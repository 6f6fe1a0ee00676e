"""Read an update from a request: a JSON body, or a form with photo files."""

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import Request
from flask_babel import gettext as _

from tracker.core.errors import BadInput
from tracker.updates.photos import MAX_PHOTOS, PreparedPhoto, prepare_photo
from tracker.words.formatting import parse_day


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


def parse_update(request: Request) -> UpdateInput:
    """Parse an update from JSON or multipart form data, naming the field that is wrong."""
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise BadInput(_("JSONオブジェクトを送ってください"), field="body")
        position = data.get("position")
        if position is not None:
            if not isinstance(position, dict) or "lat" not in position or "lon" not in position:
                raise BadInput(_('{"lat": …, "lon": …} の形で送ってください'), field="position")
            position = (_number(position["lon"]), _number(position["lat"]))
        progress = data.get("progress")
        photos = []
    else:
        data = request.form
        lat, lon = data.get("lat", "").strip(), data.get("lon", "").strip()
        position = (_number(lon), _number(lat)) if lat and lon else None
        progress = _form_int(data.get("progress"))
        photos = _photos(request)
    status = data.get("status")
    if not isinstance(status, str) or not status:
        raise BadInput(_("状況を選んでください"), field="status")
    if progress is None:
        raise BadInput(_("進捗（0〜100）を入れてください"), field="progress")
    note = data.get("note") or ""
    if not isinstance(note, str):
        raise BadInput(_("メモは文字列で送ってください"), field="note")
    client_id = data.get("client_id") or None
    if client_id is not None and not isinstance(client_id, str):
        raise BadInput(_("UUIDの形式ではありません"), field="client_id")
    return UpdateInput(
        status=status,
        progress=progress,
        note=note,
        client_id=client_id,
        position=position,
        actual_end=parse_day(data.get("actual_end"), "actual_end"),
        observed_at=_instant(data.get("observed_at")),
        base_version=_version(data.get("base_version")),
        photos=photos,
    )


def _instant(value) -> datetime | None:
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


def _version(value) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        value = None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not 0 < number < 2**31:
        raise BadInput(
            _("事業の版が読み取れません。画面を開き直してください"), field="base_version"
        )
    return number


def _number(value) -> float:
    if isinstance(value, bool):
        raise BadInput(_("緯度・経度は数値で指定してください"), field="position")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise BadInput(_("緯度・経度は数値で指定してください"), field="position") from None


def _form_int(value):
    if value is None or value.strip() == "":
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise BadInput(_("進捗は0〜100の整数で入れてください"), field="progress") from None


def _photos(request: Request) -> list[PreparedPhoto]:
    # A form with an empty file input still sends one part with no name and no bytes.
    files = [f for f in request.files.getlist("photos") if f.filename]
    if len(files) > MAX_PHOTOS:
        raise BadInput(_("写真は1回に%(n)d枚までです", n=MAX_PHOTOS), field="photos")
    return [prepare_photo(f.read(), f.filename or "") for f in files]
