"""Who may change a work: the one check every write to works goes through.

Creating, editing, updating the status of, restricting and importing a work all call
`check_may_change` in their operation, so that the staff pages, the API and the import
refuse alike: admins change every work, staff the works of their own departments (担当課),
viewers none. `user=None` is the city itself (loaders, the command line). A withdrawn work
changes only by being restored (`check_not_withdrawn`).
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.accounts.departments import department_refusal, may_change_works_of
from tracker.accounts.models import Department, User
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _
from tracker.projects.models import Project


class OtherDepartment(BadInput):
    """A change the person may not make to a work of this department: answered 403.

    The message says which department may; the JSON answer also names it (`department`).
    """

    status = 403
    code = "other_department"

    def __init__(self, user: User, department: str) -> None:
        super().__init__(
            department_refusal(user, department),
            code="other_department" if user.role == "staff" else "forbidden",
            extra={"department": department},
        )
        self.department = department


def check_may_change(user: User | None, department: str) -> None:
    """Refuse (OtherDepartment) a change by this person to a work of this department."""
    if user is not None and not may_change_works_of(user, department):
        raise OtherDepartment(user, department)


class WithdrawnWork(BadInput):
    """A change to a withdrawn work (取り下げ), which stands still until restored: 409."""

    status = 409
    code = "withdrawn"

    def __init__(self) -> None:
        super().__init__(
            _("この事業は取り下げられています。変更するには、先に事業を元に戻してください")
        )


def check_not_withdrawn(project: Project) -> None:
    """Refuse (WithdrawnWork) editing, updating or restricting a withdrawn work."""
    if project.withdrawn_at is not None:
        raise WithdrawnWork()


def check_may_move(user: User | None, old: str, new: str) -> None:
    """Refuse moving a work from one department to another unless the person may change both."""
    check_may_change(user, old)
    if new != old:
        check_may_change(user, new)


def usable_departments(user: User, known: list[str]) -> list[str]:
    """Return the departments a person may give a work: admins every known one (the
    departments table), staff their own, viewers none."""
    if user.role == "admin":
        return known
    return user.department_names if user.role == "staff" else []


def add_departments_of_works(session: Session) -> list[str]:
    """Add to the departments table every department a work names that it lacks (after
    loading works), so that the admin page lists them; return the names added."""
    known = select(Department.name)
    names = list(
        session.scalars(
            select(Project.department)
            .where(Project.department != "", Project.department.not_in(known))
            .distinct()
            .order_by(Project.department)
        )
    )
    session.add_all(Department(name=name) for name in names)
    session.flush()
    return names
