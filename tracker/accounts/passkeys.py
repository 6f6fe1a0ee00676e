"""Passkeys (WebAuthn) with py_webauthn: registering one, and signing in with one, as the
second factor or without a password.

The relying party is this site: its id is the host name people reach it at (PUBLIC_URL's,
when set), and answers must come from its origin. A challenge is kept in the signed Flask
session and taken out when it is checked, so it serves one answer only. The stored count of
uses (sign_count) must grow with each sign-in, else the credential may have been copied.
"""

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request, session
from sqlalchemy import select
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from tracker.accounts.audit import record
from tracker.accounts.models import Passkey, User
from tracker.core import clock
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _

RP_NAME = "Aso City recovery works"
CHALLENGE_KEY = "webauthn_challenge"
NAME_MAX = 60


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys are for: the host name (RP id) and the origin answers come from."""

    id: str
    origin: str


def relying_party() -> RelyingParty:
    """Return this site as a relying party: from PUBLIC_URL when set, else from the request."""
    origin = current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")
    parts = urlsplit(origin)
    return RelyingParty(id=parts.hostname or "", origin=f"{parts.scheme}://{parts.netloc}")


def user_handle(user: User) -> bytes:
    """Return the id the authenticator keeps for the person: their number, nothing personal."""
    return str(user.id).encode()


def _keep_challenge(purpose: str, challenge: bytes) -> None:
    session[CHALLENGE_KEY] = {"purpose": purpose, "challenge": challenge.hex()}


def _take_challenge(purpose: str) -> bytes:
    kept = session.pop(CHALLENGE_KEY, None)
    if not isinstance(kept, dict) or kept.get("purpose") != purpose:
        raise BadInput(
            _("パスキーの確認の有効期限が切れました。もう一度お試しください。"),
            code="passkey_challenge_missing",
        )
    return bytes.fromhex(kept["challenge"])


def registration_options(user: User) -> dict[str, Any]:
    """Return the options for navigator.credentials.create(), and keep their challenge."""
    rp = relying_party()
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=RP_NAME,
        user_name=user.login,
        user_id=user_handle(user),
        user_display_name=user.label,
        # A discoverable credential that checks who holds it (PIN, fingerprint): it can
        # sign in without a password too.
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=p.credential_id) for p in user.passkeys
        ],
    )
    _keep_challenge("register", options.challenge)
    return json.loads(options_to_json(options))


def register(db: Session, user: User, credential: Any, name: str) -> Passkey:
    """Check the authenticator's answer to the registration and keep the new passkey."""
    name = (name or "").strip()[:NAME_MAX] or _("名前のないパスキー")
    rp = relying_party()
    challenge = _take_challenge("register")
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise BadInput(
            _("パスキーを登録できませんでした。もう一度お試しください。"), code="passkey_refused"
        ) from error
    if db.scalar(select(Passkey.id).where(Passkey.credential_id == verified.credential_id)):
        raise BadInput(_("このパスキーは登録済みです。"), code="passkey_known")
    passkey = Passkey(
        user=user,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=name,
    )
    db.add(passkey)
    db.flush()
    record(db, "passkey_added", user=user, name=name)
    return passkey


def authentication_options(user: User | None) -> dict[str, Any]:
    """Return the options for navigator.credentials.get(), and keep their challenge.

    With a user (who gave their password): one of their passkeys, as the second factor.
    Without: any passkey of this site the authenticator holds, with the person verified
    on it, which stands for both factors.
    """
    rp = relying_party()
    options = generate_authentication_options(
        rp_id=rp.id,
        allow_credentials=(
            [PublicKeyCredentialDescriptor(id=p.credential_id) for p in user.passkeys]
            if user is not None
            else []
        ),
        user_verification=(
            UserVerificationRequirement.PREFERRED
            if user is not None
            else UserVerificationRequirement.REQUIRED
        ),
    )
    _keep_challenge("second" if user is not None else "passwordless", options.challenge)
    return json.loads(options_to_json(options))


def credential_owner(db: Session, credential: Any) -> Passkey | None:
    """Return the stored passkey an authenticator's answer names, if any (not yet verified)."""
    try:
        parsed = parse_authentication_credential_json(credential)
    except (WebAuthnException, ValueError, KeyError, TypeError):
        return None
    return db.scalar(select(Passkey).where(Passkey.credential_id == parsed.raw_id))


def authenticate(db: Session, passkey: Passkey, credential: Any, *, passwordless: bool) -> None:
    """Check an authenticator's answer for this passkey; raise BadInput if it is not right.

    Without a password the person must have been verified on the authenticator, and the
    answer must name the passkey's owner.
    """
    rp = relying_party()
    refused = BadInput(
        _("パスキーを確認できませんでした。もう一度お試しください。"), code="passkey_refused"
    )
    challenge = _take_challenge("passwordless" if passwordless else "second")
    try:
        parsed = parse_authentication_credential_json(credential)
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=passwordless,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise refused from error
    if passwordless and parsed.response.user_handle != user_handle(passkey.user):
        raise refused
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = clock.now()
    db.flush()


def remove(db: Session, user: User, passkey_id: int) -> Passkey | None:
    """Remove one of the person's passkeys; return it, or None if they have no such one."""
    passkey = db.scalar(select(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user.id))
    if passkey is None:
        return None
    db.delete(passkey)
    db.flush()
    db.expire(user, ["passkeys"])
    record(db, "passkey_removed", user=user, name=passkey.name)
    return passkey
