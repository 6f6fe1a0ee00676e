"""GET /api/openapi.json: the contract of every /api route, made from the models each view
declares (`tracker.serving.contract`), whichever feature serves it."""

from typing import Any

from flask import Blueprint, Response, jsonify

from tracker.serving.contract import READ, Answer, Answers, contract

bp = Blueprint("api_document", __name__, url_prefix="/api")


class OpenApiDocument(Answer):
    """An OpenAPI 3.1 document."""


def document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of the /api routes (within an app context)."""
    return contract.spec


@bp.get("/openapi.json")
@contract.validate(
    resp=Answers(200, OpenApiDocument, "This document (OpenAPI 3.1)."),
    security=READ,
    operation_id="openapi",
)
def openapi_json() -> Response:
    """This document."""
    return jsonify(document())
