"""The API contract: /api/openapi.json, made from the models the views declare, names every
/api route and no other and is a valid OpenAPI 3.1 document; schemathesis sends generated
requests to a live server and fails on any 5xx, any answer the document does not describe
(status, content type, body). FUZZ_EXAMPLES sets the cases per operation and mode
(`make fuzz` runs it with many more)."""

import io
import re

import pytest
import schemathesis
from openapi_spec_validator import validate
from PIL import Image

from tests.fuzzing import MIN_CASES, examples, fuzz
from tracker.accounts.operations import create_token
from tracker.wiring.openapi import document

EXAMPLES = examples(20)


def _routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        routes |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_the_document_is_served_and_names_every_api_route(app, client):
    served = client.get("/api/openapi.json")
    assert served.status_code == 200
    doc = served.get_json()
    assert doc["openapi"].startswith("3.1")
    documented = {
        (path, method)
        for path, item in doc["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert documented == _routes(app)


def test_the_document_is_a_valid_openapi_schema(app):
    with app.app_context():
        doc = document()
    validate(doc)  # raises, saying where, on anything OpenAPI 3.1 does not allow
    schema = schemathesis.openapi.from_dict(doc)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 11


def test_a_request_the_models_refuse_is_answered_in_the_api_s_words(client, api_fixture):
    """A refusal from the models reads like any other: the field as data, the reason in the
    reader's language, a stable code, and the codes allowed where there is a list."""
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [131.11879, 32.937]},
        "properties": {"name": "坂梨橋 補修", "kind": "bridge", "department": "建設課"},
    }

    def refusal(change, lang=""):
        body = feature | {"properties": feature["properties"] | change}
        answer = client.post(f"/api/projects{lang}", json=body, headers=api_fixture)
        assert answer.status_code == 400
        return answer.get_json()

    # Once a 500 (unhashable type: 'list'): a list is no code.
    body = refusal({"funding": [None, None]})
    assert (body["field"], body["code"]) == ("funding", "invalid_format")
    assert body["error"] == "funding: 文字列で指定してください"
    body = refusal({"funding": "lottery"})
    assert (body["field"], body["code"]) == ("funding", "unknown_value")
    assert body["error"].startswith("funding: 一覧から選んでください")
    assert "disaster_recovery" in body["allowed"]
    english = refusal({"progress": "half"}, lang="?lang=en")
    assert (english["field"], english["code"]) == ("progress", "invalid_format")
    assert english["error"] == "progress: Give a whole number"


@pytest.fixture
def api_fixture(session, make_user, make_project):
    """A staff token and a few projects (one with history) for generated requests to find."""
    for name in ("宮地駅前橋 補修", "内牧 市道 舗装"):
        make_project(name=name)
    session.commit()
    return {"Authorization": f"Bearer {create_token(session, make_user(role='staff'))}"}


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    app, connection, live_server, api_fixture, capsys
):
    with app.app_context():
        schema = schemathesis.openapi.from_dict(document())

    def call(case):
        # Each case starts from the fixture's data and leaves nothing behind. Rolled back
        # to, a savepoint stays open (so does each request's own): released too, or tens of
        # thousands of cases nest as deep in the test's one transaction, holding their
        # locks, until PostgreSQL's lock table is full.
        connection.exec_driver_sql("SAVEPOINT fuzz_case")
        try:
            return case.call(base_url=live_server, headers=api_fixture, timeout=60)
        finally:
            connection.exec_driver_sql("ROLLBACK TO SAVEPOINT fuzz_case")
            connection.exec_driver_sql("RELEASE SAVEPOINT fuzz_case")

    run = fuzz(schema, call, examples=EXAMPLES, headers=api_fixture)
    with capsys.disabled():
        print("\n" + run.summary("schemathesis"))
    assert not run.failures, "\n\n".join(run.failures[:10])
    assert run.total >= max(MIN_CASES, 2 * 9 * min(EXAMPLES, 5))


def test_the_requests_that_once_failed_with_500_are_refused_in_words(
    client, session, api_fixture, make_project
):
    """Found by the fuzzer: a list as a geometry's type, and a photo named with a NUL byte."""
    feature = {
        "type": "Feature",
        "geometry": {"type": ["Point"], "coordinates": [131.11879, 32.937]},
        "properties": {"name": "坂梨橋 補修", "kind": "bridge", "department": "建設課"},
    }
    refused = client.post("/api/projects", json=feature, headers=api_fixture)
    assert refused.status_code == 400
    body = refused.get_json()
    assert (body["field"], body["code"]) == ("geometry", "geometry_parse")
    assert "type は文字列で指定してください" in body["error"]

    project = make_project()
    session.commit()
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(photo, "JPEG")
    photo.seek(0)
    refused = client.post(
        f"/api/projects/{project.id}/updates",
        data={"status": "design", "progress": "10", "photos": [(photo, "site\x00.jpg")]},
        headers=api_fixture,
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400
    body = refused.get_json()
    assert body["field"] == "photos" and "使えない文字（NUL）" in body["error"]
