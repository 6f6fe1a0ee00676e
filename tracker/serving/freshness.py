"""Public answers a proxy and a phone may keep: Cache-Control, an ETag from the data version,
and 304 when the copy a client holds is still current.

The data version (serving.answer_cache) changes in the same commit as any change to the
works, their history, restrictions or facilities, so an answer's ETag names the version it
was read at, with whatever else it depends on (the day, the language, the query string).
The ETag is worked out before the view runs: a client or proxy holding the current copy
gets its 304 without a single query beyond the version's. An answer for anyone (no session,
no token) is also kept in the process under its ETag: the next phone asking the same is
answered without the view running, as a proxy in front would answer it.
"""

import hashlib
from collections.abc import Callable, Hashable
from datetime import datetime
from functools import wraps
from typing import NamedTuple, ParamSpec

from flask import Response, current_app, g, make_response, request
from flask.typing import ResponseReturnValue

from tracker.core import clock
from tracker.serving.answer_cache import keep, kept, request_data_version
from tracker.words.i18n import locale

P = ParamSpec("P")

# Signed-in readers may see more (and their names): their browser asks again every time.
PRIVATE_CACHE_CONTROL = "private, no-cache"


def kept_for_a_while(scope: str = "public") -> str:
    """Return the Cache-Control of an answer a proxy (public) or only the reader's browser
    (private) may keep for PUBLIC_MAX_AGE seconds (a minute unless set) before asking again."""
    return f"{scope}, max-age={int(current_app.config['PUBLIC_MAX_AGE'])}"


def this_minute() -> datetime:
    """Return the current minute: answers that say which restrictions are in force now change
    with it (at a restriction's daily hours), not only with the data."""
    return clock.now().replace(second=0, microsecond=0)


def minute_and_language() -> tuple[Hashable, ...]:
    """What an answer that says which restrictions are in force depends on besides the data."""
    return (this_minute(), locale())


def version_etag(*parts: Hashable) -> str:
    """Return the (unquoted) entity tag of this request's answer at the current data version."""
    args = sorted(request.args.items(multi=True))
    seed = repr((request.path, args, parts)).encode()
    digest = hashlib.blake2b(seed, digest_size=10).hexdigest()
    return f"d{request_data_version()}-{digest}"


class _KeptAnswer(NamedTuple):
    body: bytes
    headers: list[tuple[str, str]]
    # The page's inline scripts carry the nonce it was made with; its policy must name it.
    nonce: str | None


def _for_anyone() -> bool:
    """Whether this request's answer may be given to anyone who asks the same: it carries no
    session and no token (the rule of the proxy's cache), so nothing in it is a reader's own."""
    return (
        current_app.config["SESSION_COOKIE_NAME"] not in request.cookies
        and "Authorization" not in request.headers
    )


def _answer_for_anyone(etag: str, view: Callable[[], ResponseReturnValue]) -> Response:
    key = ("answer for anyone", request.host_url, etag)
    found = kept(key)
    if found is not None:
        if found.nonce is not None:
            g.csp_nonce = found.nonce
        return Response(found.body, headers=found.headers)
    response = make_response(view())
    if (
        response.status_code == 200
        and not response.is_streamed
        and "Set-Cookie" not in response.headers
    ):
        body = response.get_data()
        keep(key, _KeptAnswer(body, list(response.headers), g.get("csp_nonce")), len(body))
    return response


def kept_for(
    parts: Callable[[], tuple[Hashable, ...]],
    signed_in: Callable[[], bool],
    *,
    kept_here: bool = False,
) -> Callable[[Callable[P, ResponseReturnValue]], Callable[P, Response]]:
    """Mark a view's answers cacheable for PUBLIC_MAX_AGE under a data-version ETag.

    `parts` names what else the answer depends on (the day, the language); an anonymous
    reader's answer is public (a proxy keeps it), a signed-in one's private. A client whose
    If-None-Match holds the ETag gets 304 and the view never runs. With `kept_here`, an
    answer for anyone is kept in this process too (for views that keep nothing themselves).
    """

    def decorate(view: Callable[P, ResponseReturnValue]) -> Callable[P, Response]:
        @wraps(view)
        def answer(*args: P.args, **kwargs: P.kwargs) -> Response:
            private = signed_in()
            etag = version_etag(private, *parts())
            if request.if_none_match.contains_weak(etag):
                response = Response(status=304)
            elif kept_here and not private and _for_anyone():
                response = _answer_for_anyone(etag, lambda: view(*args, **kwargs))
            else:
                response = make_response(view(*args, **kwargs))
            if response.status_code not in (200, 304):
                return response
            # Weak: the same answer is sent gzipped or not.
            response.set_etag(etag, weak=True)
            response.headers["Cache-Control"] = (
                PRIVATE_CACHE_CONTROL if private else kept_for_a_while()
            )
            # Who asks (a cookie) and in which language change the answer.
            response.vary.update(["Cookie", "Accept-Language", "Accept-Encoding"])
            return response

        return answer

    return decorate
