"""The audit of account changes: who changed whose account, what, and when.

Details name what changed (a role, departments), never a password, a secret or a token.
"""

from sqlalchemy.orm import Session

from tracker.accounts.models import AccountEvent, User
from tracker.words.vocab import N_

# Every action the audit knows, with the words the admin page shows for it.
ACTIONS = {
    "created": N_("アカウント作成"),
    "invited": N_("招待"),
    "joined": N_("招待を受けて登録"),
    "role_changed": N_("役割の変更"),
    "departments_changed": N_("担当課の変更"),
    "details_changed": N_("名前・メールの変更"),
    "deactivated": N_("利用停止"),
    "reactivated": N_("利用再開"),
    "reset_sent": N_("パスワード再設定メールの送信"),
    "password_reset": N_("パスワードの再設定"),
    "password_changed": N_("パスワードの変更"),
    "totp_enabled": N_("認証アプリの登録"),
    "totp_removed": N_("認証アプリの削除"),
    "recovery_codes_made": N_("回復コードの発行"),
    "recovery_code_used": N_("回復コードの使用"),
    "passkey_added": N_("パスキーの登録"),
    "passkey_removed": N_("パスキーの削除"),
    "token_created": N_("APIトークンの発行"),
    "token_revoked": N_("APIトークンの取り消し"),
    "sessions_ended": N_("ほかの端末のログアウト"),
    # Changes to the list of departments: no one person's account (user is None).
    "department_added": N_("担当課の追加"),
    "department_renamed": N_("担当課の名前の変更"),
    "department_removed": N_("担当課の削除"),
}


def record(
    session: Session,
    action: str,
    *,
    user: User | None,
    actor: User | None = None,
    **detail: object,
) -> AccountEvent:
    """Write down one change to `user`'s account, made by `actor` (None: the person or a script).

    `user` is None for a change to no one account (the list of departments).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown account action {action!r}")
    event = AccountEvent(
        action=action,
        user_id=user.id if user else None,
        actor_id=actor.id if actor else None,
        detail=detail,
    )
    session.add(event)
    session.flush()
    return event
