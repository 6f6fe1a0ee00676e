"""Gzip for large text responses: the field staff's phones often have weak signal."""

import gzip
import zlib
from collections.abc import Iterable, Iterator

from flask import Flask, Response, request

COMPRESSIBLE = (
    "application/json",
    "application/geo+json",
    "text/html",
    "text/csv",
    "application/atom+xml",
    "application/javascript",
    "text/css",
)
MIN_SIZE = 1024


def init_app(app: Flask) -> None:
    """Compress responses for clients that accept gzip."""
    app.after_request(_gzip_response)


def _gzip_response(response: Response) -> Response:
    if (
        response.direct_passthrough
        or response.status_code < 200
        or response.status_code >= 300
        or "gzip" not in request.headers.get("Accept-Encoding", "")
        or "Content-Encoding" in response.headers
        or not (response.mimetype or "").startswith(COMPRESSIBLE)
    ):
        return response
    if response.is_streamed:
        # Compressed piece by piece as it leaves: reading it all here would undo the streaming.
        response.response = _gzip_pieces(response.response)
        response.headers.pop("Content-Length", None)
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        return response
    body = response.get_data()
    if len(body) < MIN_SIZE:
        return response
    response.set_data(gzip.compress(body, compresslevel=5))
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Content-Length"] = str(len(response.get_data()))
    response.vary.add("Accept-Encoding")
    return response


def _gzip_pieces(pieces: Iterable[bytes | str]) -> Iterator[bytes]:
    """Gzip a streamed body, flushing after each piece so that each reaches the client."""
    compressor = zlib.compressobj(5, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for piece in pieces:
        data = piece.encode() if isinstance(piece, str) else piece
        yield compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    yield compressor.flush()
