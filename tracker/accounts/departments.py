"""Departments: whose works a person may change.

Admins change every work, staff the works of their own departments (担当課), viewers none.
Reads are not limited by department.
"""

from tracker.accounts.models import User
from tracker.core.translate import gettext as _


def may_change_works_of(user: User, department: str) -> bool:
    """Tell whether the person may change, update, restrict or import a work of this department."""
    if user.role == "admin":
        return True
    return user.role == "staff" and department in user.department_names


def department_refusal(user: User, department: str) -> str:
    """Say, in the reader's language, why the person may not change a work of this department."""
    if user.role != "staff":
        return _("閲覧者は工事を変更できません。")
    mine = "、".join(user.department_names) or _("なし")
    return _(
        "この工事の担当課は「%(department)s」です。変更できるのは%(department)sの職員と管理者です"
        "（あなたの担当課：%(mine)s）。",
        department=department,
        mine=mine,
    )
