"""/metrics answers Prometheus' text format to this machine and to admins and viewers only,
and its figures move when requests are answered, sign-ins fail and alert mails are sent."""

from prometheus_client.parser import text_string_to_metric_families

from tracker.accounts.operations import create_token
from tracker.projects.history import append_status


def _figures(response) -> dict:
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/plain" and response.headers["Cache-Control"] == "no-store"
    figures = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            figures[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return figures


def _value(figures, name, **labels) -> float:
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_requests_sign_in_failures_and_the_outbox(
    client, session, make_user, make_project
):
    before = _figures(client.get("/metrics"))
    work = make_project(name="市道 坂梨線 舗装", status="design")
    append_status(session, work.id, user=make_user("admin"), status="construction", progress=5)
    for _ in range(3):
        assert client.get("/api/projects").status_code == 200
    client.post("/login", data={"login": "nobody", "password": "not the password at all"})
    after = _figures(client.get("/metrics"))

    route = {"route": "/api/projects", "method": "GET", "status": "200"}
    assert _value(after, "tracker_http_requests_total", **route) == (
        _value(before, "tracker_http_requests_total", **route) + 3
    )
    latency = {"route": "/api/projects", "method": "GET"}
    assert _value(after, "tracker_http_request_duration_seconds_count", **latency) >= 3
    failed = {"event": "sign-in failed"}
    assert _value(after, "tracker_auth_events_total", **failed) == (
        _value(before, "tracker_auth_events_total", **failed) + 1
    )
    # The status change is news the alerts have not matched yet.
    assert _value(after, "tracker_outbox_unhandled_events") >= 1
    assert ("tracker_alert_mails", (("state", "sent"),)) in after


def test_metrics_are_hidden_from_other_addresses_unless_an_admin_or_viewer_asks(
    client, session, make_user
):
    elsewhere = {"REMOTE_ADDR": "203.0.113.9"}

    def asked_by(role: str | None):
        headers = {}
        if role is not None:
            headers["Authorization"] = f"Bearer {create_token(session, make_user(role))}"
        return client.get("/metrics", environ_base=elsewhere, headers=headers)

    assert asked_by(None).status_code == 404
    assert asked_by("staff").status_code == 404
    assert _figures(asked_by("viewer"))
    assert _figures(asked_by("admin"))
