"""/admin/hazards: load or replace a national hazard layer from its published Shapefile."""

from pathlib import Path

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from tracker.accounts.access import roles_required
from tracker.core.db import get_session
from tracker.core.errors import BadInput
from tracker.core.translate import gettext
from tracker.hazards.codes import LAYER_CREDITS, LAYERS, LAYOUTS
from tracker.hazards.loading import MAX_HAZARD_FILE_BYTES, HazardLoad, load_hazard_file
from tracker.hazards.queries import loaded_layers

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _render(
    *, result: HazardLoad | None = None, message: str | None = None, status: int = 200
) -> ResponseReturnValue:
    return (
        render_template(
            "admin/hazards.html",
            layers={code: gettext(label) for code, label in LAYERS.items()},
            layouts=LAYOUTS,
            credits=LAYER_CREDITS,
            loaded=loaded_layers(get_session()),
            result=result,
            message=message,
            max_mb=MAX_HAZARD_FILE_BYTES >> 20,
        ),
        status,
    )


@bp.get("/hazards")
@roles_required("admin")
def hazards_page() -> ResponseReturnValue:
    """Show the loaded hazard layers and the form to load one."""
    return _render()


@bp.post("/hazards")
@roles_required("admin")
def load_hazards() -> ResponseReturnValue:
    """Replace a hazard layer with an uploaded zipped Shapefile; nothing changes if refused."""
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise BadInput("ファイルを選んでください", field="file")
        data = upload.read(MAX_HAZARD_FILE_BYTES + 1)
        result = load_hazard_file(
            get_session(), data, Path(upload.filename).name, request.form.get("layer", "")
        )
    except BadInput as exc:
        return _render(message=exc.text, status=400)
    return _render(result=result)
