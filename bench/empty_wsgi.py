"""A WSGI app that answers `{}` and does nothing else: served as the app is (gunicorn, the
same workers, threads and worker class), the least any answer of ours can take over HTTP on
this machine (the large bench prints it beside one OGC feature)."""


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
    return [b"{}"]
