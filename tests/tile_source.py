"""A base map tile source of the tests' own: PNG tiles from a server thread in the test
process, so that the maps and the offline map areas are checked without the internet."""

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image


def tile_png() -> bytes:
    """A 256 px tile of one colour, as small as a real one of empty land."""
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (214, 230, 200)).save(out, "PNG")
    return out.getvalue()


class TileSource:
    """The server's address and the tile paths it was asked for."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.requested: list[str] = []

    @property
    def template(self) -> str:
        """The tile URL template for the app's MAP_TILE_URL setting."""
        return self.url + "/{tileset}/{z}/{x}/{y}.{ext}"


@contextmanager
def serve_tiles() -> Iterator[TileSource]:
    """Serve PNG tiles on a free local port for as long as the block runs."""
    png = tile_png()
    source = TileSource("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            source.requested.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            # The staff pages fetch tiles to keep them offline: a cross-origin read.
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    source.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield source
    finally:
        server.shutdown()
        thread.join()
