"""Sign in and out."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in (the form comes with the accounts work)."""
    return "login", 501
