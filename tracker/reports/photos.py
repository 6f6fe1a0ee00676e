"""A report's photos: read by their content, re-encoded so that nothing of the file but its
pixels is kept (no EXIF, no GPS, no maker notes, no ICC profile).

The place of a report comes from the form, never from the file. A file whose content is not
the image type it claims (a "photo.jpg" that is a PNG, a script, a PDF) is refused.
"""

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _

MAX_PHOTOS = 3
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 60_000_000
DISPLAY_SIZE = 1600
THUMB_SIZE = 320
# What each type a browser or a client may claim is, as Pillow names it.
CLAIMED = {"image/jpeg": "JPEG", "image/jpg": "JPEG", "image/pjpeg": "JPEG", "image/png": "PNG"}
EXTENSIONS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}


@dataclass(frozen=True)
class CleanPhoto:
    """A photo re-encoded without metadata: the copy served and its thumbnail."""

    content_type: str
    data: bytes
    thumb: bytes
    width: int
    height: int


def clean_photo(data: bytes, filename: str, claimed_type: str) -> CleanPhoto:
    """Check a photo against the type it claims and re-encode it without any metadata."""
    label = (filename or "").rsplit("/", 1)[-1][:100] or _("写真")
    if not data:
        raise BadInput(_("「%(name)s」は空のファイルです", name=label), field="photos")
    if len(data) > MAX_PHOTO_BYTES:
        raise BadInput(
            _(
                "「%(name)s」は大きすぎます（%(size).1f MB、上限は10 MB）",
                name=label,
                size=len(data) / 1048576,
            ),
            field="photos",
        )
    claimed = CLAIMED.get((claimed_type or "").split(";")[0].strip().lower())
    extension = "." + label.rsplit(".", 1)[-1].lower() if "." in label else ""
    claimed = claimed or EXTENSIONS.get(extension)
    if claimed is None:
        raise BadInput(
            _("「%(name)s」は写真として受け付けられません（JPEG・PNGのみ）", name=label),
            field="photos",
            code="photo_type",
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            found = probe.format
            if probe.width * probe.height > MAX_PIXELS:
                raise BadInput(_("「%(name)s」は画素数が多すぎます", name=label), field="photos")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            # A JPEG decodes straight to the size kept (scaled in the DCT): several times faster.
            image.draft("RGB", (DISPLAY_SIZE, DISPLAY_SIZE))
            image.load()
            upright = ImageOps.exif_transpose(image)
    except BadInput:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        found = None
    if found != claimed:
        raise BadInput(
            _(
                "「%(name)s」の中身は、名前や種類が示す画像（%(claimed)s）ではありません。カメラで撮った写真を選んでください。",
                name=label,
                claimed=claimed,
            ),
            field="photos",
            code="photo_type",
        )
    keep_png = found == "PNG"
    display, width, height = _encode(upright, DISPLAY_SIZE, png=keep_png)
    thumb, _w, _h = _encode(upright, THUMB_SIZE, png=False)
    return CleanPhoto(
        content_type="image/png" if keep_png else "image/jpeg",
        data=display,
        thumb=thumb,
        width=width,
        height=height,
    )


def _encode(image: Image.Image, size: int, *, png: bool) -> tuple[bytes, int, int]:
    # A new image made from the pixels alone carries no EXIF, XMP, ICC or text chunks.
    copy = image.copy()
    copy.thumbnail((size, size), Image.Resampling.LANCZOS)
    mode = "RGBA" if png and copy.mode in ("RGBA", "LA", "P") else "RGB"
    pixels = Image.new(mode, copy.size, "white")
    source = copy.convert("RGBA")
    if mode == "RGBA":
        pixels.paste(source)
    else:
        pixels.paste(source, mask=source.getchannel("A"))
    out = io.BytesIO()
    if png:
        pixels.save(out, "PNG", optimize=True)
    else:
        pixels.save(out, "JPEG", quality=85)
    return out.getvalue(), pixels.width, pixels.height
