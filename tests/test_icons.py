"""The site's icons: /favicon.ico answers, pages name the icons and the manifest, and the
manifest's icons are served."""

import io
import re

from PIL import Image


def test_favicon_and_touch_icon_answer_at_their_fixed_addresses(client):
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 200
    assert Image.open(io.BytesIO(favicon.data)).format == "ICO"
    assert "max-age=604800" in favicon.headers["Cache-Control"]
    touch = client.get("/apple-touch-icon.png")
    assert touch.status_code == 200
    assert Image.open(io.BytesIO(touch.data)).size == (180, 180)


def test_pages_name_the_icons_and_the_manifest_whose_icons_are_served(client):
    page = client.get("/near").get_data(as_text=True)
    assert re.search(r'<link rel="icon" href="/static/icons/icon\.[0-9a-f]+\.svg"', page)
    assert 'rel="apple-touch-icon"' in page
    manifest_url = re.search(r'<link rel="manifest" href="([^"]+)"', page).group(1)

    manifest = client.get(manifest_url)
    assert manifest.mimetype == "application/manifest+json"
    body = manifest.get_json()
    assert body["name"] == "阿蘇市 復旧・復興事業マップ"
    sizes = {icon["sizes"] for icon in body["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in body["icons"]:
        answer = client.get(icon["src"])
        assert answer.status_code == 200, icon["src"]
        if icon["type"] == "image/png":
            width, height = Image.open(io.BytesIO(answer.data)).size
            assert f"{width}x{height}" == icon["sizes"]


def test_the_manifest_speaks_english_to_an_english_reader(client):
    assert client.get("/manifest.webmanifest?lang=en").get_json()["short_name"] == "Recovery map"
