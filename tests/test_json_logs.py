"""LOG_FORMAT=json: each request and sign-in event is one JSON line with the facts of the
text line as named members, and still no query string, password or token."""

import io
import json
import logging

from tracker.serving.request_log import log_formatter


def _json_lines(app, requests) -> list[dict]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(log_formatter("json"))
    logger = logging.getLogger("tracker")
    logger.addHandler(handler)
    try:
        requests()
    finally:
        logger.removeHandler(handler)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_request_and_sign_in_is_one_json_line(app, client, make_user):
    make_user("staff", login="tanaka", password="外輪山 kettle umbrella 1987")

    def requests():
        client.get("/api/projects?q=secret-words")
        client.post("/login", data={"login": "tanaka", "password": "a wrong password here"})

    lines = _json_lines(app, requests)
    request_lines = [line for line in lines if line["logger"] == "tracker.requests"]
    assert [(r["method"], r["path"], r["status"]) for r in request_lines] == [
        ("GET", "/api/projects", 200),
        ("POST", "/login", 200),
    ]
    first = request_lines[0]
    assert len(first["id"]) == 32 and first["user"] is None and first["ms"] >= 0
    assert first["level"] == "INFO" and first["time"]
    [failed] = [line for line in lines if line["logger"] == "tracker.auth"]
    assert failed["event"] == "sign-in failed" and failed["login"] == "tanaka"
    assert failed["id"] == request_lines[1]["id"]
    everything = json.dumps(lines, ensure_ascii=False)
    assert "secret-words" not in everything and "a wrong password" not in everything
