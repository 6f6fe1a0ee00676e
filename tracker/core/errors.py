"""Error responses in the reader's language: JSON under /api, pages elsewhere.

Every JSON error carries `error`, a sentence for people (in the reader's language), and
`code`, a stable word for programs that never changes with the language. A refusal of one
input also names it in `field`, and its `error` starts with that name ("kind: …"), as the
API has always answered.
"""

from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask.globals import request_ctx
from flask.typing import ResponseReturnValue
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from tracker.core.db import database_unavailable
from tracker.core.translate import lazy_gettext as _l


class BadInput(ValueError):
    """Input that cannot be used; the message says what is wrong, in the reader's language.

    `field` names the input at fault, when there is one; `code` names the problem for
    programs, and `extra` adds members to the JSON answer (such as the codes a field allows).
    `str()` gives "field: message", as the API's `error` has always read. `status` is the
    HTTP status it is answered with: 400, or 403 for a refusal of who asks rather than of what.
    """

    code = "invalid_input"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.text = message
        self.field = field
        if code is not None:
            self.code = code
        self.extra = extra or {}

    def __str__(self) -> str:
        return f"{self.field}: {self.text}" if self.field else self.text


# What each HTTP error means to a person, and its stable code for programs.
HTTP_ERRORS = {
    400: ("bad_request", _l("リクエストを読み取れません"), _l("送られた内容を読み取れませんでした。入力を確かめて、もう一度お試しください。")),
    401: ("unauthorized", _l("ログインが必要です"), _l("この操作にはログインが必要です。")),
    403: ("forbidden", _l("この操作はできません"), _l("あなたのアカウントには、この操作をする権限がありません。")),
    404: ("not_found", _l("ページが見つかりません"), _l("お探しのページは見つかりませんでした。アドレスを確かめるか、地図から探してください。")),
    405: ("method_not_allowed", _l("この方法では使えません"), _l("このアドレスは、この送り方（%(method)s）には対応していません。")),
    412: ("precondition_failed", _l("ほかの人が先に変更しました"), _l("この内容は、開いた後にほかの人が変更しました。読み込み直してから、もう一度お試しください。")),
    413: ("payload_too_large", _l("送信する内容が大きすぎます"), _l("送信する内容が大きすぎます（上限 %(limit)s）。写真の枚数を減らすか、小さくしてから送ってください。")),
    428: ("precondition_required", _l("版の指定が必要です"), _l("変更するには、読み込んだときの版（ETag）を If-Match で送ってください。")),
    429: ("too_many_requests", _l("しばらくお待ちください"), _l("短い間に何度も試みがありました。しばらく待ってから、もう一度お試しください。")),
    500: ("internal_error", _l("システムのエラーです"), _l("システムの内部でエラーが起きました。何も保存されていません。しばらくしてから、もう一度お試しください。")),
    503: ("unavailable", _l("ただいま利用できません"), _l("ただいまこの機能を利用できません。しばらくしてから、もう一度お試しください。")),
}  # fmt: skip
_OTHER_ERROR = ("http_error", _l("エラー"), _l("リクエストを処理できませんでした。"))
# When to try again after the database was unreachable: a restart or a failover takes
# about this long.
RETRY_AFTER_S = 30


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(BadInput, _bad_input)


def outage_instead(error: HTTPException) -> HTTPException:
    """Return 503 with Retry-After in place of a 500 that a database outage caused (the
    database down, unreachable or overloaded, also at the commit after the answer was
    made); any other error as it is (a wrong query stays a 500)."""
    if isinstance(error, InternalServerError) and database_unavailable(error.original_exception):
        return ServiceUnavailable(retry_after=RETRY_AFTER_S)
    return error


def wants_json() -> bool:
    """Tell whether this request should be answered in JSON."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def http_error_words(error: HTTPException) -> tuple[str, str, str]:
    """Return (code, title, message) of an HTTP error in the reader's language.

    A message the app gave when refusing (abort(404, description=…)) is kept; the framework's
    own English texts are replaced by ours.
    """
    code, title, default = HTTP_ERRORS.get(error.code or 0, _OTHER_ERROR)
    custom = error.description != type(error).description
    if custom:
        return code, str(title), str(error.description)
    return code, str(title), default % {"method": request.method, "limit": _size_limit()}


def _size_limit() -> str:
    limit = request.max_content_length or 0
    return f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit // 2**10} KB"


def error_response(status: int, *, code: str, message: str, **extra: object) -> ResponseReturnValue:
    """Answer an error in JSON ({"error", "code", …}) or as a page, as the request wants."""
    if wants_json():
        return jsonify(error=message, code=code, **extra), status
    title = HTTP_ERRORS.get(status, _OTHER_ERROR)[1]
    return error_page(status, str(title), message=message), status


def error_page(
    status: int, title: str, *, message: str | None = None, error: BadInput | None = None
) -> str | Response:
    """Render the error page; a plain one when the page itself fails.

    The page names who is signed in, which reads the database: when the database is what
    failed, the plain page still gets answered, with its headers and its log line, rather
    than the error escaping to the server's own bare page.
    """
    try:
        return render_template("error.html", status=status, title=title, message=message,
                               error=error)  # fmt: skip
    except Exception:
        current_app.logger.exception("The error page %d could not be rendered", status)
        text = str(error) if error is not None else message or ""
        # Still a page, without the site's frame (which names who is signed in).
        page = (
            f'<!doctype html>\n<html><head><meta charset="utf-8"><title>{status} '
            f"{escape(title)}</title></head>\n<body><h1>{escape(title)}</h1>\n"
            f"<p>{escape(text)}</p>\n</body></html>\n"
        )
        return Response(page, status, mimetype="text/html")


def _http_error(error: HTTPException) -> ResponseReturnValue:
    if request_ctx.url_adapter is None:
        # A Host not in TRUSTED_HOSTS: no URL can be built, so no page can be rendered.
        return Response(f"{error.code} {error.name}\n", error.code, mimetype="text/plain")
    error = outage_instead(error)
    code, title, message = http_error_words(error)
    status = error.code or 500
    response: Response | str
    if wants_json():
        response = jsonify(error=message, code=code)
    else:
        response = error_page(status, title, message=message)
    # Keeps what the error itself says to clients, such as Allow on a 405.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return response, status, headers


def _bad_input(error: BadInput) -> ResponseReturnValue:
    if wants_json():
        extra = {"field": error.field} if error.field else {}
        return jsonify(error=str(error), code=error.code, **extra, **error.extra), error.status
    title = HTTP_ERRORS[error.status][1]
    return error_page(error.status, str(title), error=error), error.status
