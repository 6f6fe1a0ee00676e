"""The list of departments (担当課): add, rename, remove.

Works name their department by its text (projects.department), people are assigned by the
department's row. A rename therefore changes the row, which keeps every person's
assignment, and the text of every work of that department, each as an audited edit of the
work (a new version, so a form opened before the rename does not overwrite it).
"""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.accounts import audit
from tracker.accounts.models import Department, User, user_departments
from tracker.core import clock
from tracker.core.errors import BadInput
from tracker.core.limits import DEPARTMENT_MAX, check_name
from tracker.core.translate import gettext as _
from tracker.projects.audit import record_change
from tracker.projects.models import Project


def department_uses(session: Session) -> dict[int, tuple[int, int]]:
    """Return, for each department id, how many works and how many people name it."""
    works: dict[int, int] = {
        department_id: count
        for department_id, count in session.execute(
            select(Department.id, func.count(Project.id))
            .join(Project, Project.department == Department.name)
            .group_by(Department.id)
        )
    }
    people: dict[int, int] = {
        department_id: count
        for department_id, count in session.execute(
            select(user_departments.c.department_id, func.count()).group_by(
                user_departments.c.department_id
            )
        )
    }
    ids = session.scalars(select(Department.id))
    return {i: (works.get(i, 0), people.get(i, 0)) for i in ids}


def _check_new_name(session: Session, value: object, *, keep: Department | None = None) -> str:
    name = check_name("department", value, limit=DEPARTMENT_MAX)
    same = select(Department.id).where(Department.name == name)
    if keep is not None:
        same = same.where(Department.id != keep.id)
    if session.scalar(same) is not None:
        raise BadInput(
            _("「%(name)s」はすでに一覧にあります", name=name),
            field="department",
            code="department_exists",
        )
    return name


def add_department(session: Session, name: object, *, actor: User) -> Department:
    """Add a department to the list people are assigned from."""
    department = Department(name=_check_new_name(session, name))
    session.add(department)
    session.flush()
    audit.record(session, "department_added", user=None, actor=actor, name=department.name)
    return department


def rename_department(
    session: Session, department: Department, name: object, *, actor: User
) -> int:
    """Rename a department and every work of it; return how many works were renamed."""
    new = _check_new_name(session, name, keep=department)
    old = department.name
    if new == old:
        return 0
    works = list(
        session.scalars(
            select(Project).where(Project.department == old).order_by(Project.id).with_for_update()
        )
    )
    department.name = new
    now = clock.now()
    for project in works:
        project.department = new
        project.updated_at = now
    session.flush()  # raises each work's version
    for project in works:
        record_change(
            session,
            project,
            action="update",
            changes={"department": {"old": old, "new": new}},
            user=actor,
        )
    audit.record(
        session, "department_renamed", user=None, actor=actor, old=old, new=new, works=len(works)
    )
    return len(works)


def remove_department(session: Session, department: Department, *, actor: User) -> None:
    """Remove a department no work and no person names; otherwise say which do."""
    works, people = department_uses(session).get(department.id, (0, 0))
    if works or people:
        raise BadInput(
            _(
                "「%(name)s」は工事%(works)d件と%(people)d人が使っているため削除できません。"
                "工事の担当課と人の担当課を先に変えてください",
                name=department.name,
                works=works,
                people=people,
            ),
            field="department",
            code="department_in_use",
        )
    name = department.name
    session.delete(department)
    session.flush()
    audit.record(session, "department_removed", user=None, actor=actor, name=name)
