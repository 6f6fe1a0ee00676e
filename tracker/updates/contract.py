"""What the status history API takes and answers, declared once: the views (the API and the
phone form without JavaScript) are checked against these models and `/api/openapi.json` is
made from them."""

from datetime import datetime
from typing import Annotated, Any

from flask import Request
from pydantic import Field, RootModel, StrictStr, ValidationError

from tracker.projects.contract import Day, Progress, Status
from tracker.projects.history import MAX_NOTE_LENGTH
from tracker.serving.contract import ID_MAX, Answer, Body, Parsed, Query, refusal
from tracker.updates.parsing import (
    UpdateInput,
    read_form_progress,
    read_instant,
    read_photos,
    read_position,
    read_version,
)
from tracker.updates.photos import MAX_PHOTOS, PreparedPhoto

INSTANT_SCHEMA = {
    "type": "string",
    "format": "date-time",
    "description": "When it was seen on site, with its UTC offset (default: now); at most "
    "10 minutes ahead and 30 days back.",
}
VERSION_SCHEMA = {
    "type": "integer",
    "minimum": 1,
    "maximum": ID_MAX,
    "description": "The project version the form showed; a stale one answers 409.",
}
POSITION_SCHEMA = {
    "type": "object",
    "required": ["lat", "lon"],
    "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
}
Instant = Annotated[
    datetime | None, Parsed(lambda value, _field: read_instant(value), INSTANT_SCHEMA)
]
Version = Annotated[int | None, Parsed(lambda value, _field: read_version(value), VERSION_SCHEMA)]


class UpdateBody(Body):
    """A status update as JSON."""

    status: Status
    progress: Progress
    note: Annotated[StrictStr, Field(max_length=MAX_NOTE_LENGTH)] = ""
    client_id: Annotated[StrictStr | None, Field(json_schema_extra={"format": "uuid"})] = None
    actual_end: Day = None
    observed_at: Instant = None
    base_version: Version = None
    position: Annotated[
        tuple[float, float] | None,
        Parsed(lambda value, _field: read_position(value), POSITION_SCHEMA),
    ] = None

    def to_input(self) -> UpdateInput:
        """Return the update's fields, not yet checked against the project."""
        return UpdateInput(
            status=self.status,
            progress=self.progress,
            note=self.note,
            client_id=self.client_id or None,
            position=self.position,
            actual_end=self.actual_end,
            observed_at=self.observed_at,
            base_version=self.base_version,
        )


class UpdateForm(Query):
    """A status update as a form, with photos (the phone's page, with or without JavaScript)."""

    status: StrictStr
    progress: Annotated[
        int,
        Parsed(
            lambda value, _field: read_form_progress(value),
            {"type": "string", "pattern": "^[0-9]{1,3}$"},
        ),
    ]
    note: StrictStr = ""
    client_id: StrictStr = ""
    actual_end: Day = None
    observed_at: Instant = None
    base_version: Version = None
    lat: StrictStr = ""
    lon: StrictStr = ""
    photos: Annotated[
        list[PreparedPhoto],
        Parsed(
            lambda value, _field: read_photos(value),
            {
                "type": "array",
                "maxItems": MAX_PHOTOS,
                "items": {"type": "string", "contentMediaType": "image/jpeg"},
            },
        ),
    ] = []

    def to_input(self) -> UpdateInput:
        """Return the update's fields, not yet checked against the project."""
        lat, lon = self.lat.strip(), self.lon.strip()
        return UpdateInput(
            status=self.status,
            progress=self.progress,
            note=self.note,
            client_id=self.client_id or None,
            position=read_position({"lat": lat, "lon": lon}) if lat and lon else None,
            actual_end=self.actual_end,
            observed_at=self.observed_at,
            base_version=self.base_version,
            photos=self.photos,
        )


class Author(Answer):
    """Who recorded an update."""

    id: int
    name: str


class Position(Answer):
    """Where the phone was (WGS84)."""

    lat: float
    lon: float


class PhotoAnswer(Answer):
    """A photo of an update and its sizes' addresses."""

    id: int
    width: int
    height: int
    thumb_url: str | None = None
    display_url: str | None = None


class Update(Answer):
    """One status update; anonymous callers get the first five fields only."""

    observed_at: datetime = Field(description="When it was seen on site.")
    recorded_at: datetime = Field(description="When the server stored it.")
    previous_status: Status | None
    status: Status
    progress: Progress
    id: int | None = None
    project_id: int | None = None
    previous_progress: int | None = None
    note: str | None = None
    client_id: Annotated[str | None, Field(json_schema_extra={"format": "uuid"})] = None
    author: Author | None = None
    position: Position | None = None
    photos: list[PhotoAnswer] | None = None


class Updates(Answer):
    """A project's status history, oldest first."""

    project_id: int
    updates: list[Update]


class StatusChoice(Answer):
    """A status the project may move to, with its label."""

    code: Status
    label: str


class ProjectState(Answer):
    """A project's state now, as the update form needs it."""

    version: int
    status: Status
    status_label: str | None = None
    progress: Progress
    allowed: list[StatusChoice]


class UpdateRecorded(Update):
    """The update recorded (or recorded before, same client_id), with the project's state."""

    project: ProjectState | None = None


class StaleUpdateAnswer(Answer):
    """409: the project changed since base_version (who changed what, and its state now),
    or it is withdrawn (code `withdrawn`: it must be restored first)."""

    error: str
    code: str | None = None
    field: str | None = None
    message: str | None = None
    current: ProjectState | None = None
    changes: list[str] = []
    recent: list[Update] = Field(
        [], description="The work's latest entries, oldest first: those recorded meanwhile too."
    )


class ClientIdReusedAnswer(Answer):
    """409 `client_id_reused`: this client_id already recorded another update (other status,
    progress, note, time on site, position or number of photos), which `update` shows."""

    error: str
    code: str
    field: str | None = None
    message: str | None = None
    update: Update


class UpdateConflict(RootModel[StaleUpdateAnswer | ClientIdReusedAnswer]):
    """409: the update conflicts with the stored state or with an earlier send."""


def parse_update(request: Request) -> UpdateInput:
    """Read an update from JSON or a multipart form by the models above, naming the field
    that is wrong (for the phone's page, which the contract does not check for it)."""
    try:
        if request.is_json:
            return UpdateBody.model_validate(request.get_json(silent=True)).to_input()
        fields: dict[str, Any] = dict(request.form.items())
        fields["photos"] = request.files.getlist("photos")
        return UpdateForm.model_validate(fields).to_input()
    except ValidationError as error:
        raise refusal(error) from None
