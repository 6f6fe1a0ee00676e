"""Photos: checked by content, upright, public copies without EXIF, served by visibility,
and never left on disk by a request that failed."""

import io
import secrets
from pathlib import Path

import pytest
from PIL import Image

from tracker.accounts.access import hash_token
from tracker.accounts.models import ApiToken
from tracker.core.errors import BadInput
from tracker.projects.history import append_status
from tracker.updates.photos import attach_photos, prepare_photo

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(width=400, height=200, orientation=6) -> bytes:
    """A JPEG as a phone writes it: sideways pixels, an Orientation tag and a GPS position."""
    image = Image.new("RGB", (width, height), "red")
    image.paste((0, 0, 255), (0, 0, width // 4, height))  # blue band on the left
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (32.0, 56.0, 13.0), 3: "E", 4: (131.0, 7.0, 7.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def encoded(fmt: str, mode="RGB", size=(64, 48)) -> bytes:
    out = io.BytesIO()
    colour = {"RGBA": (0, 128, 0, 128), "L": 128}.get(mode, (0, 128, 0))
    Image.new(mode, size, colour).save(out, fmt)
    return out.getvalue()


def files_in(folder) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file())


def test_a_phone_photo_is_turned_upright_and_its_public_copies_carry_no_location():
    photo = prepare_photo(jpeg_with_gps(), "IMG_0001.JPG")

    assert (photo.width, photo.height) == (200, 400)
    for copy in (photo.display, photo.thumb):
        with Image.open(io.BytesIO(copy)) as image:
            assert image.height > image.width
            exif = image.getexif()
            assert GPS_IFD not in exif and not exif.get_ifd(GPS_IFD)
            assert b"Exif" not in copy
    # Rotated 90° clockwise: the blue band that was on the left is now on top.
    with Image.open(io.BytesIO(photo.display)) as image:
        r, g, b = image.convert("RGB").getpixel((image.width // 2, 5))
        assert b > 200 and r < 60
    with Image.open(io.BytesIO(photo.original)) as original:
        assert original.getexif().get_ifd(GPS_IFD)[1] == "N"


@pytest.mark.parametrize(("fmt", "mode"), [("PNG", "RGBA"), ("WEBP", "RGB"), ("JPEG", "L")])
def test_png_webp_and_grey_jpeg_are_accepted(fmt, mode):
    photo = prepare_photo(encoded(fmt, mode), f"x.{fmt.lower()}")
    assert photo.content_type == f"image/{fmt.lower()}"
    with Image.open(io.BytesIO(photo.thumb)) as thumb:
        assert thumb.format == "JPEG"


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"this is a text file, not a photo", "site.jpg", "「site.jpg」は写真として読み取れません"),
        (encoded("GIF"), "anim.gif", "「anim.gif」は写真として読み取れません"),
        (encoded("JPEG")[:200], "cut.jpg", "「cut.jpg」は写真として読み取れません"),
        (b"", "empty.jpg", "空のファイル"),
        (b"\xff\xd8" + b"0" * (10 * 1024 * 1024), "huge.jpg", "上限は10 MB"),
    ],
)
def test_anything_but_a_real_photo_is_refused_with_a_message(data, name, words):
    with pytest.raises(BadInput) as refused:
        prepare_photo(data, name)
    assert str(refused.value).startswith("photos: ")
    assert words in str(refused.value)


@pytest.fixture
def staff_headers(session, make_user):
    token = secrets.token_urlsafe(24)
    user = make_user("staff")
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
    session.flush()
    return {"Authorization": f"Bearer {token}"}


def post_with_photos(client, project, headers, photos, **fields):
    data = {"status": "construction", "progress": "30", "note": "写真付き", **fields}
    data["photos"] = [(io.BytesIO(content), name) for name, content in photos]
    return client.post(
        f"/api/projects/{project.id}/updates",
        data=data,
        headers=headers,
        content_type="multipart/form-data",
    )


def test_photos_are_stored_on_disk_and_served_by_visibility(
    app, client, make_project, staff_headers
):
    project = make_project()
    response = post_with_photos(
        client,
        project,
        staff_headers,
        [("bridge.jpg", jpeg_with_gps()), ("plan.png", encoded("PNG"))],
    )
    assert response.status_code == 201, response.json
    photos = response.json["photos"]
    assert [(p["width"], p["height"]) for p in photos] == [(200, 400), (64, 48)]
    assert len(files_in(app.config["UPLOAD_DIR"])) == 6  # original, display, thumb each

    anonymous = app.test_client()
    display = anonymous.get(photos[0]["display_url"])
    assert display.status_code == 200 and display.mimetype == "image/jpeg"
    assert b"Exif" not in display.data
    assert anonymous.get(photos[0]["thumb_url"]).status_code == 200
    original_url = photos[0]["display_url"].replace("display", "original")
    assert anonymous.get(original_url).status_code == 404
    original = client.get(original_url, headers=staff_headers)
    assert original.status_code == 200
    with Image.open(io.BytesIO(original.data)) as image:
        assert image.getexif().get_ifd(GPS_IFD)  # the original keeps its position, for staff


def test_photos_of_a_staff_only_project_are_not_served_to_anonymous_callers(
    app, client, make_project, staff_headers, make_user, login_as
):
    project = make_project(is_public=False)
    response = post_with_photos(client, project, staff_headers, [("a.jpg", jpeg_with_gps())])
    url = response.json["photos"][0]["thumb_url"]
    assert app.test_client().get(url).status_code == 404
    login_as(make_user("viewer"))
    assert client.get(url).status_code == 200


def test_a_text_file_named_jpg_is_refused_and_nothing_is_recorded(
    app, client, session, make_project, staff_headers
):
    project = make_project()
    response = post_with_photos(
        client, project, staff_headers, [("ok.jpg", jpeg_with_gps()), ("fake.jpg", b"hello")]
    )
    assert response.status_code == 400
    assert (
        response.json["error"]
        == "photos: 「fake.jpg」は写真として読み取れません（JPEG・PNG・WebPのみ）"
    )
    assert len(project.updates) == 1
    assert files_in(app.config["UPLOAD_DIR"]) == []


def test_a_refused_update_leaves_no_photo_on_disk(app, client, make_project, staff_headers):
    project = make_project()
    response = post_with_photos(
        client, project, staff_headers, [("a.jpg", jpeg_with_gps())], status="completed"
    )
    assert response.status_code == 400
    assert response.json["error"].startswith("status: ")
    assert files_in(app.config["UPLOAD_DIR"]) == []


def test_files_written_before_a_rollback_are_removed(session, make_project, make_user, tmp_path):
    project = make_project()
    folder = tmp_path / "rolled-back"
    update = append_status(session, project.id, user=make_user(), status="design", progress=5)
    attach_photos(session, update, [prepare_photo(jpeg_with_gps(), "a.jpg")], upload_dir=folder)
    assert len(files_in(folder)) == 3
    session.rollback()
    assert files_in(folder) == []


def test_the_project_page_shows_authors_and_photos_to_signed_in_users_only(
    app, client, make_project, staff_headers, make_user, login_as
):
    project = make_project()
    response = post_with_photos(client, project, staff_headers, [("a.jpg", jpeg_with_gps())])
    thumb_url = response.json["photos"][0]["thumb_url"]
    author = response.json["author"]["name"]

    public_page = app.test_client().get(f"/projects/{project.id}").text
    assert thumb_url not in public_page
    assert "写真付き" not in public_page

    login_as(make_user("viewer"))
    page = client.get(f"/projects/{project.id}").text
    assert thumb_url in page
    assert author in page
    assert "写真付き" in page
