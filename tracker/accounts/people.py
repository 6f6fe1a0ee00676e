"""What admins do to people's accounts: invite, change role, departments and details,
deactivate and reactivate; and what an invitee does with the invitation: join.

Every change is written to the audit and told to the person by mail once it is committed.
Each operation checks everything before it writes anything, so a refusal leaves the account
as it was. The last active admin can be neither demoted nor deactivated: the city would
have no one left to run its people.
"""

import re
from collections.abc import Callable, Iterable

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from tracker.accounts import audit
from tracker.accounts.links import LIFETIMES, issue_link, link_url, link_user, use_link
from tracker.accounts.mail import account_mail, send_after_commit, tell_account_changed
from tracker.accounts.models import ROLES, AccountEvent, AccountLink, Department, User
from tracker.accounts.operations import end_sessions
from tracker.accounts.passwords import check_new_password, hash_password
from tracker.core import clock
from tracker.core.errors import BadInput
from tracker.core.limits import DISPLAY_NAME_MAX, LOGIN_MAX, check_name
from tracker.core.translate import force_locale
from tracker.core.translate import gettext as _

# What no Argon2 hash can match: an invitee has no password until they choose one.
UNUSABLE_PASSWORD = "!"
LANGUAGES = ("ja", "en")
EMAIL_MAX = 254  # RFC 5321's limit on a forward path
# A pragmatic shape check (something@domain.tld); the invitation mail proves the rest.
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def check_email(session: Session, value: object, *, user: User | None = None) -> str:
    """Return an e-mail address that looks deliverable and no other account uses."""
    email = check_name("email", value, limit=EMAIL_MAX)
    if not EMAIL_SHAPE.fullmatch(email):
        raise BadInput(
            _("メールアドレスの形になっていません（例：tanaka@city.aso.lg.jp）"),
            field="email",
            code="invalid_email",
        )
    taken = select(User.id).where(func.lower(User.email) == email.lower())
    if user is not None:
        taken = taken.where(User.id != user.id)
    if session.scalar(taken) is not None:
        raise BadInput(
            _("このメールアドレスはほかのアカウントで使われています"),
            field="email",
            code="email_taken",
        )
    return email


def _check_login(session: Session, value: object) -> str:
    login = check_name("login", value, limit=LOGIN_MAX)
    if session.scalar(select(User.id).where(func.lower(User.login) == login.lower())):
        raise BadInput(_("このログイン名はすでに使われています"), field="login", code="login_taken")
    return login


def _check_role(role: object) -> str:
    if role not in ROLES:
        raise BadInput(_("役割を選んでください"), field="role", code="unknown_role")
    return str(role)


def _check_language(language: object) -> str:
    if language not in LANGUAGES:
        raise BadInput(_("言語を選んでください"), field="language", code="unknown_language")
    return str(language)


def find_departments(session: Session, ids: Iterable[object]) -> list[Department]:
    """Return the departments with these ids (as a form sends them), refusing unknown ones."""
    try:
        wanted = {int(str(i)) for i in ids}
    except ValueError:
        wanted = {-1}
    found = list(
        session.scalars(
            select(Department).where(Department.id.in_(wanted)).order_by(Department.name)
        )
    )
    if len(found) != len(wanted):
        raise BadInput(
            _("担当課の一覧にない課が選ばれています。ページを読み込み直してください"),
            field="departments",
            code="unknown_department",
        )
    return found


def _role_word(role: str) -> str:
    return _(ROLES[role])


def _names(departments: list[Department]) -> str:
    return "、".join(d.name for d in departments) or _("なし")


# Invitations


def invite(
    session: Session,
    *,
    actor: User,
    login: object,
    display_name: object,
    email: object,
    role: object,
    departments: list[Department],
    language: object = "ja",
) -> User:
    """Create an account with no password and mail its person a link to choose one (72 hours)."""
    login = _check_login(session, login)
    display_name = check_name("display_name", display_name, limit=DISPLAY_NAME_MAX)
    email = check_email(session, email)
    role = _check_role(role)
    language = _check_language(language)
    user = User(
        login=login,
        display_name=display_name,
        email=email,
        role=role,
        language=language,
        password_hash=UNUSABLE_PASSWORD,
        is_active=True,
        departments=departments,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        "invited",
        user=user,
        actor=actor,
        role=role,
        departments=[d.name for d in departments],
    )
    _send_invitation(session, user, actor)
    return user


def _send_invitation(session: Session, user: User, actor: User) -> None:
    token = issue_link(session, user, "invite")
    hours = int(LIFETIMES["invite"].total_seconds() // 3600)
    with force_locale(user.language):
        role = _role_word(user.role)
    message = account_mail(
        user, "invite", url=link_url("invite", token), hours=hours, inviter=actor.label, role=role
    )
    send_after_commit(session, message)


def is_pending(user: User) -> bool:
    """Tell whether the person was invited and has not chosen a password yet."""
    return user.password_hash == UNUSABLE_PASSWORD


def pending_invitations(session: Session) -> set[int]:
    """Return the ids of the people invited who have not joined yet."""
    invited = exists().where(AccountLink.user_id == User.id, AccountLink.purpose == "invite")
    return set(
        session.scalars(select(User.id).where(User.password_hash == UNUSABLE_PASSWORD, invited))
    )


def resend_invitation(session: Session, user: User, *, actor: User) -> None:
    """Mail a pending invitee a new link; the earlier one stops working."""
    if not is_pending(user):
        raise BadInput(
            _("%(login)s さんはすでに登録を済ませています", login=user.login),
            code="already_joined",
        )
    if not user.is_active:
        raise BadInput(
            _("利用停止中のアカウントには招待を送れません。先に利用を再開してください"),
            code="inactive",
        )
    audit.record(session, "invited", user=user, actor=actor, resent=True)
    _send_invitation(session, user, actor)


def inviter_of(session: Session, user: User) -> User | None:
    """Return the admin who last invited the person, if one did."""
    return session.scalar(
        select(User)
        .join(AccountEvent, AccountEvent.actor_id == User.id)
        .where(AccountEvent.user_id == user.id, AccountEvent.action == "invited")
        .order_by(AccountEvent.id.desc())
        .limit(1)
    )


def invitee(session: Session, token: str) -> User | None:
    """Return the person a live invitation is for, if it is live and they may still join."""
    user = link_user(session, token, "invite")
    return user if user is not None and user.is_active and is_pending(user) else None


def join(session: Session, token: str, password: str) -> User | None:
    """Set the invitee's first password and use the invitation up; None if it is not live.

    A weak password is refused before the link is touched: the invitee tries again with it.
    """
    user = invitee(session, token)
    if user is None:
        return None
    check_new_password(password, personal=(user.login, user.display_name, user.email or ""))
    if use_link(session, token, "invite") is None:  # used meanwhile, in another tab
        return None
    user.password_hash = hash_password(password)
    user.password_changed_at = clock.now()
    audit.record(session, "joined", user=user)
    return user


# Changes to a person


def _lock_active_admins(session: Session) -> list[User]:
    """Lock every active admin's row and return them as they are now.

    Two admins demoting each other at once both wait here for the other's commit and then
    count what it left; neither can count the other still in charge.
    """
    return list(
        session.scalars(
            select(User)
            .where(User.role == "admin", User.is_active.is_(True))
            .order_by(User.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _keep_an_admin(session: Session, user: User, refusal: Callable[[], str]) -> None:
    """Refuse to take `user` out of the active admins when no other active admin remains."""
    if user.role != "admin":
        return
    admins = _lock_active_admins(session)
    if user in admins and len(admins) == 1:
        raise BadInput(refusal(), code="last_admin")


def change_role(session: Session, user: User, role: object, *, actor: User) -> None:
    """Give the person another role; the last active admin keeps theirs."""
    role = _check_role(role)
    if role == user.role:
        return
    if role != "admin":
        _keep_an_admin(
            session,
            user,
            lambda: _(
                "%(login)s さんは最後の管理者です。ほかの人を管理者にしてから役割を変えてください",
                login=user.login,
            ),
        )
    old = user.role
    user.role = role
    session.flush()
    audit.record(session, "role_changed", user=user, actor=actor, old=old, new=role)
    tell_account_changed(
        session,
        user,
        lambda: _(
            "役割が「%(old)s」から「%(new)s」に変わりました。",
            old=_role_word(old),
            new=_role_word(role),
        ),
    )


def change_departments(
    session: Session, user: User, departments: list[Department], *, actor: User
) -> None:
    """Set whose works the person may change."""
    old = user.department_names
    if sorted(d.name for d in departments) == sorted(old):
        return
    user.departments = sorted(departments, key=lambda d: d.name)
    session.flush()
    audit.record(
        session,
        "departments_changed",
        user=user,
        actor=actor,
        old=old,
        new=user.department_names,
    )
    tell_account_changed(
        session,
        user,
        lambda: _(
            "担当課が「%(departments)s」になりました。", departments=_names(user.departments)
        ),
    )


def change_details(
    session: Session,
    user: User,
    *,
    actor: User,
    display_name: object,
    email: object,
    language: object,
) -> None:
    """Change the person's display name, e-mail address and the language of their mails.

    A changed address is told at the old address too: whoever lost the account hears of it.
    """
    new = {
        "display_name": check_name("display_name", display_name, limit=DISPLAY_NAME_MAX),
        "email": check_email(session, email, user=user),
        "language": _check_language(language),
    }
    changed = [field for field, value in new.items() if getattr(user, field) != value]
    if not changed:
        return
    old_email = user.email
    for field in changed:
        setattr(user, field, new[field])
    session.flush()
    audit.record(session, "details_changed", user=user, actor=actor, fields=changed)
    with force_locale(user.language):
        what = _("名前・メールアドレス・メールの言語の登録が変わりました。")
    send_after_commit(session, account_mail(user, "account_changed", what=what))
    if "email" in changed and old_email:
        send_after_commit(
            session, account_mail(user, "account_changed", address=old_email, what=what)
        )


def deactivate(session: Session, user: User, *, actor: User) -> None:
    """Stop the person's account: their open sessions end, their links and tokens stop working.

    API tokens are refused while the account is inactive (access.py checks is_active) and
    work again once it is reactivated; links are used up for good.
    """
    if not user.is_active:
        return
    if user.id == actor.id:
        refusal = _("最後の管理者なので、自分のアカウントを停止できません")
    else:
        refusal = _("%(login)s さんは最後の管理者なので、利用を停止できません", login=user.login)
    _keep_an_admin(session, user, lambda: refusal)
    now = clock.now()
    user.is_active = False
    end_sessions(session, user)
    session.execute(
        update(AccountLink)
        .where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None))
        .values(used_at=now)
    )
    session.flush()
    audit.record(session, "deactivated", user=user, actor=actor)
    tell_account_changed(
        session,
        user,
        lambda: _(
            "アカウントの利用が停止されました。ログインしていた端末はすべてログアウトしました。"
        ),
    )


def reactivate(session: Session, user: User, *, actor: User) -> None:
    """Let the person sign in again."""
    if user.is_active:
        return
    user.is_active = True
    session.flush()
    audit.record(session, "reactivated", user=user, actor=actor)
    tell_account_changed(session, user, lambda: _("アカウントの利用が再開されました。"))
