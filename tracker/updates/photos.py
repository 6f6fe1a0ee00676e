"""Photo checks and storage: content-checked, turned upright, public copies without EXIF.

Each photo is kept as three files under UPLOAD_DIR/photos/<key[:2]>/ (written first under
UPLOAD_DIR/incoming/, and moved there once the photo's row is committed):
  <key>.<ext>        the upload as it came (with its EXIF, GPS included), staff only
  <key>.display.jpg  upright, at most 2048 px, re-encoded without any metadata
  <key>.thumb.jpg    upright, at most 320 px, without any metadata
"""

import io
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from tracker.core.errors import BadInput
from tracker.core.limits import CONTROL
from tracker.core.translate import gettext as _
from tracker.projects.history import ClientIdReused, StatusUpdate
from tracker.updates.models import CONTENT_TYPES, MAX_PHOTO_BYTES, Photo

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
DISPLAY_SIZE = 2048
THUMB_SIZE = 320
MAX_PHOTOS = 10
# A 10 MB file can still unpack to gigabytes of pixels; phone cameras stay far below this.
MAX_PIXELS = 60_000_000
VARIANTS = ("display", "thumb")

_STAGED = "tracker.updates.staged_files"
# Under UPLOAD_DIR: files of photos whose rows are not committed yet, one folder per process.
STAGING = "incoming"


@dataclass(frozen=True)
class PreparedPhoto:
    """A checked photo with its public copies rendered, not yet on disk."""

    key: str
    original_name: str
    content_type: str
    original: bytes
    display: bytes
    thumb: bytes
    width: int
    height: int


def prepare_photo(data: bytes, filename: str = "") -> PreparedPhoto:
    """Check an upload by its content and render its upright, metadata-free copies."""
    name = os.path.basename(filename or "")[:200]
    found = CONTROL.search(name)
    if found:
        # The name is stored as text, which cannot hold NUL: refuse it here, in words.
        char = "NUL" if found.group() == "\x00" else f"U+{ord(found.group()):04X}"
        raise BadInput(_("使えない文字（%(char)s）が含まれています", char=char), field="photos")
    label = name or _("写真")
    if not data:
        raise BadInput(_("「%(name)s」は空のファイルです", name=label), field="photos")
    if len(data) > MAX_PHOTO_BYTES:
        raise BadInput(
            _(
                "「%(name)s」は大きすぎます（%(size).1f MB、上限は10 MB）",
                name=label,
                size=len(data) / 1024 / 1024,
            ),
            field="photos",
        )
    not_a_photo = BadInput(
        _("「%(name)s」は写真として読み取れません（JPEG・PNG・WebPのみ）", name=label),
        field="photos",
    )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            content_type = FORMATS.get(probe.format or "")
            if content_type is None:
                raise not_a_photo
            if probe.width * probe.height > MAX_PIXELS:
                raise BadInput(_("「%(name)s」は画素数が多すぎます", name=label), field="photos")
            probe.verify()  # walks the whole file: catches truncated and corrupt uploads
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
    except BadInput:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise not_a_photo from None
    return PreparedPhoto(
        key=uuid.uuid4().hex,
        original_name=name,
        content_type=content_type,
        original=data,
        display=_render(upright, DISPLAY_SIZE, quality=85),
        thumb=_render(upright, THUMB_SIZE, quality=80),
        width=upright.width,
        height=upright.height,
    )


def _render(image: Image.Image, size: int, *, quality: int) -> bytes:
    # A fresh RGB image carries no EXIF, XMP or ICC blocks: nothing about where it was taken.
    copy = image.copy()
    copy.thumbnail((size, size), Image.Resampling.LANCZOS)
    if copy.mode not in ("RGB", "L"):
        background = Image.new("RGB", copy.size, "white")
        rgba = copy.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        copy = background
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def photo_path(upload_dir: str | Path, key: str, variant: str, extension: str = "jpg") -> Path:
    """Return where one file of a photo is kept; variant is original, display or thumb."""
    if not key.isalnum():
        raise ValueError(f"bad storage key {key!r}")
    folder = Path(upload_dir) / "photos" / key[:2]
    if variant == "original":
        return folder / f"{key}.{extension}"
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    return folder / f"{key}.{variant}.jpg"


def attach_photos(
    session: Session,
    update: StatusUpdate,
    photos: Sequence[PreparedPhoto],
    upload_dir: str | Path | None = None,
) -> None:
    """Add checked photos to a status update just recorded: rows now, files after the commit."""
    if len(photos) > MAX_PHOTOS:
        raise BadInput(_("写真は1回に%(n)d枚までです", n=MAX_PHOTOS), field="photos")
    if not photos:
        return
    for prepared in photos:
        session.add(
            Photo(
                update=update,
                storage_key=prepared.key,
                content_type=prepared.content_type,
                original_name=prepared.original_name,
                size_bytes=len(prepared.original),
                width=prepared.width,
                height=prepared.height,
            )
        )
    session.flush()
    folder = upload_dir or current_app.config["UPLOAD_DIR"]
    for prepared in photos:
        stage_photo_files(session, folder, prepared)


def attach_photos_once(
    session: Session, update: StatusUpdate, photos: Sequence[PreparedPhoto]
) -> None:
    """Attach the photos to an update just recorded; a resend of it (same client_id) must
    carry as many photos as the first send did, or it is another update (ClientIdReused)."""
    if update.is_new:
        attach_photos(session, update, photos)
    elif len(update.photos) != len(photos):  # type: ignore[attr-defined]  # Photo's backref
        raise ClientIdReused(update)


def staging_dir(upload_dir: str | Path, pid: int | None = None) -> Path:
    """Return where this process writes photo files until their rows are committed."""
    # One folder per process: after a crash, the sweep knows whose files these were and
    # that nobody is still writing them (see tracker.updates.sweep).
    return Path(upload_dir) / STAGING / f"{socket.gethostname()}.{pid or os.getpid()}"


def stage_photo_files(session: Session, upload_dir: str | Path, photo: PreparedPhoto) -> None:
    """Write a photo's files under the staging folder; the commit moves them into place.

    Until then no file under photos/ names a photo without a row: a crash before the commit
    leaves only staged files, which the sweep removes; a crash between the commit and the
    move leaves staged files of a committed row, which the sweep moves into place.
    """
    files = [
        (
            photo_path(upload_dir, photo.key, "original", CONTENT_TYPES[photo.content_type]),
            photo.original,
        ),
        (photo_path(upload_dir, photo.key, "display"), photo.display),
        (photo_path(upload_dir, photo.key, "thumb"), photo.thumb),
    ]
    folder = staging_dir(upload_dir)
    folder.mkdir(parents=True, exist_ok=True)
    _watch_transaction(session)
    staged = session.info.setdefault(_STAGED, [])
    for final, data in files:
        temporary = folder / final.name
        with temporary.open("wb") as f:
            f.write(data)
            # On disk before the row is committed, so a committed row always has its bytes.
            f.flush()
            os.fsync(f.fileno())
        staged.append((temporary, final))


def move_into_place(temporary: Path, final: Path) -> None:
    """Move a staged file to its place under photos/ (the same file system: atomic)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temporary, final)


def _watch_transaction(session: Session) -> None:
    if not event.contains(session, "after_commit", _move_files):
        event.listen(session, "after_commit", _move_files)
        event.listen(session, "after_soft_rollback", _remove_files)


def _move_files(session: Session) -> None:
    for temporary, final in session.info.pop(_STAGED, []):
        move_into_place(temporary, final)


def _remove_files(session: Session, previous_transaction: SessionTransaction) -> None:
    # Only the whole transaction's end matters; a savepoint rolled back inside it
    # (a duplicate client_id, say) leaves the files of rows that still stand.
    if previous_transaction.nested or previous_transaction.parent is not None:
        return
    for temporary, _final in session.info.pop(_STAGED, []):
        temporary.unlink(missing_ok=True)
