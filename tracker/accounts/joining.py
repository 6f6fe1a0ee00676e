"""/account/join/<token>: an invitee chooses their password with the link of their invitation.

The page says who invited them and for which role, and their login name. A weak password is
refused and the link stays live for another try; a good one uses the link up. The person is
then sent to sign in and set up their second factor (the sign-in is not made here: a link
found in a mailbox alone must not open a session).
"""

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from tracker.accounts import people
from tracker.accounts.forms import ChoosePasswordForm
from tracker.accounts.models import ROLES
from tracker.core.db import get_session
from tracker.core.errors import BadInput

bp = Blueprint("joining", __name__)

# Where a new account goes next: sign in, then the second factor.
SIGN_IN_THEN_SECOND_FACTOR = "/login?next=/account/two-factor"
# The token is in the address: no cache may keep the page, no other site learns the address.
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.route("/account/join/<token>", methods=["GET", "POST"])
def join(token: str) -> ResponseReturnValue:
    """Show the invitation and the form to choose a password; take the password."""
    session = get_session()
    user = people.invitee(session, token)
    if user is None:
        return render_template("accounts/join.html", invalid=True), 410, PRIVATE
    form = ChoosePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            joined = people.join(session, token, form.password.data or "")
        except BadInput as refusal:
            form.password.errors = [refusal.text]
            status = 400
        else:
            if joined is None:  # used up meanwhile, in another tab
                return render_template("accounts/join.html", invalid=True), 410, PRIVATE
            return redirect(url_for("joining.joined"), 303)
    elif form.is_submitted():
        status = 400
    form.password.data = form.confirm.data = ""
    inviter = people.inviter_of(session, user)
    return (
        render_template(
            "accounts/join.html",
            form=form,
            user=user,
            inviter=inviter,
            role=ROLES[user.role],
            invalid=False,
        ),
        status,
        PRIVATE,
    )


@bp.get("/account/join/done")
def joined() -> ResponseReturnValue:
    """Say the account is ready, and lead to the sign-in and the second factor."""
    return render_template("accounts/join.html", done=True, next_url=SIGN_IN_THEN_SECOND_FACTOR)
