"""Absolute links (the feed's, the mails') built from the configured public address, not the
Host header."""

from typing import Any

from flask import current_app, has_request_context, url_for

# Where `make run` serves: the links of mails written while PUBLIC_URL is unset.
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"


def external_url(endpoint: str, **values: Any) -> str:
    """Return an absolute URL: PUBLIC_URL + path when it is set, else from the request."""
    public = current_app.config.get("PUBLIC_URL")
    if not has_request_context():
        # The mail sender runs outside any request (cron): there is no Host to read.
        path = current_app.url_map.bind("localhost").build(endpoint, values)
        return (public or DEFAULT_PUBLIC_URL) + path
    if public:
        # A forged Host header must not end up in a feed readers keep and follow.
        return public + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)
