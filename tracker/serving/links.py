"""Absolute links (the feed's) built from the configured public address, not the Host header."""

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    """Return an absolute URL: PUBLIC_URL + path when it is set, else from the request."""
    public = current_app.config.get("PUBLIC_URL")
    if public:
        # A forged Host header must not end up in a feed readers keep and follow.
        return public + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)
