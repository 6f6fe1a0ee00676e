"""Static files under content-hashed names: compressed, kept a year, named by every page."""

import gzip
import re
from pathlib import Path

import brotli

from tracker.serving.hashed_assets import CACHE_CONTROL, build, hashed_name

ROOT = Path(__file__).resolve().parent.parent
IMMUTABLE = "public, max-age=31536000, immutable"


def page_assets(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/(?:static|vendor)/[^"?]+)"', page)


def test_a_page_names_its_files_by_their_hashed_names(client):
    page = client.get("/login").get_data(as_text=True)
    named = page_assets(page)
    assert any(re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", url) for url in named)
    assert any(re.fullmatch(r"/static/editing/forms\.[0-9a-f]{12}\.css", url) for url in named)
    assert "/static/css/site.css" not in page
    for url in named:
        assert client.get(url).headers["Cache-Control"] == IMMUTABLE, url


def test_a_hashed_file_is_kept_a_year_and_sent_compressed_as_asked(client):
    source = (ROOT / "node_modules/leaflet/dist/leaflet.js").read_bytes()
    page = client.get("/near").get_data(as_text=True)
    [url] = [u for u in page_assets(page) if re.search(r"/leaflet\.[0-9a-f]{12}\.js$", u)]

    as_brotli = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert as_brotli.status_code == 200
    assert as_brotli.headers["Content-Encoding"] == "br"
    assert as_brotli.headers["Cache-Control"] == CACHE_CONTROL == IMMUTABLE
    assert as_brotli.headers["Vary"] == "Accept-Encoding"
    assert as_brotli.headers["X-Content-Type-Options"] == "nosniff"
    assert brotli.decompress(as_brotli.data) == source
    assert len(as_brotli.data) < len(source) / 3

    as_gzip = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert as_gzip.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(as_gzip.data) == source

    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.data == source


def test_the_plain_names_still_answer_with_short_caching(client):
    for url in ("/static/css/site.css", "/vendor/leaflet/dist/leaflet.css"):
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert "immutable" not in answer.headers.get("Cache-Control", ""), url
    assert client.get("/vendor/leaflet/package.json").status_code == 404


def test_a_changed_file_gets_a_new_name_and_the_old_one_stays(tmp_path):
    source, built = tmp_path / "src", tmp_path / "public"
    (source / "js").mkdir(parents=True)
    script = source / "js" / "app.min.js"
    script.write_text("var a = 1;\n" * 200)
    first = build([("static", "/static", source, ["js/app.min.js"])], built)
    script.write_text("var a = 2;\n" * 200)
    second = build([("static", "/static", source, ["js/app.min.js"])], built)

    old, new = first["static"]["js/app.min.js"], second["static"]["js/app.min.js"]
    assert old != new and re.fullmatch(r"js/app\.min\.[0-9a-f]{12}\.js", new)
    assert new == hashed_name("js/app.min.js", script.read_bytes())
    assert (built / "static" / old).read_text().startswith("var a = 1;")
    assert (built / "static" / new).read_text().startswith("var a = 2;")
    # Both compressed copies beside each, and nothing left of the work in progress.
    assert gzip.decompress((built / "static" / f"{new}.gz").read_bytes()) == script.read_bytes()
    assert brotli.decompress((built / "static" / f"{new}.br").read_bytes()) == script.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["public", "src"]
