"""Forms shared by the account pages."""

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo

from tracker.accounts.passwords import MAX_LENGTH
from tracker.core.translate import lazy_gettext as _l


class ChoosePasswordForm(FlaskForm):
    """A new password, typed twice (an invitation, a reset, a change)."""

    password = PasswordField(
        _l("新しいパスワード"), validators=[DataRequired(_l("パスワードを入力してください"))]
    )
    confirm = PasswordField(
        _l("新しいパスワード（確認）"),
        validators=[
            DataRequired(_l("確認のため、もう一度入力してください")),
            EqualTo("password", message=_l("2つのパスワードが一致しません")),
        ],
    )
    max_length = MAX_LENGTH
