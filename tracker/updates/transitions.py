"""The one table of allowed status changes, and the rules that come with them."""

from datetime import date

from flask_babel import gettext as _

from tracker.errors import BadInput
from tracker.projects.vocab import STATUSES, status_label

# Current status → statuses an update may set. Staying put (a progress or note update)
# is always allowed. Completion comes only from construction; a completed project is
# reopened by going back to construction, with a note saying why.
TRANSITIONS: dict[str, frozenset[str]] = {
    "planned": frozenset({"planned", "design", "construction", "suspended"}),
    "design": frozenset({"design", "planned", "construction", "suspended"}),
    "construction": frozenset({"construction", "completed", "suspended"}),
    "suspended": frozenset({"suspended", "planned", "design", "construction"}),
    "completed": frozenset({"completed", "construction"}),
}

assert set(TRANSITIONS) == set(STATUSES), "every status needs a row in TRANSITIONS"


def allowed_next(status: str) -> list[str]:
    """Return the statuses an update may set on a project in this status, in display order."""
    return [s for s in STATUSES if s in TRANSITIONS[status]]


def check_state(
    *, status: str, progress: int, actual_start: date | None, actual_end: date | None
) -> None:
    """Refuse a state no project may be in, whether reached by an update or entered new."""
    if status not in STATUSES:
        raise BadInput("status: " + _("不明な状況です: %(status)s", status=status))
    if status == "completed":
        if progress != 100:
            raise BadInput("progress: " + _("完了にするには進捗を100%にしてください"))
        if actual_end is None:
            raise BadInput("actual_end: " + _("完了にするには完了日（実績終了日）が必要です"))
        if actual_start is not None and actual_end < actual_start:
            raise BadInput("actual_end: " + _("完了日が着手日より前になっています"))


def check_change(
    *,
    previous_status: str,
    previous_progress: int,
    status: str,
    progress: int,
    note: str,
    actual_start: date | None,
    actual_end: date | None,
) -> None:
    """Refuse a status change the rules do not allow, saying why."""
    if status not in STATUSES:
        raise BadInput("status: " + _("不明な状況です: %(status)s", status=status))
    if status not in TRANSITIONS[previous_status]:
        allowed = _("、").join(status_label(s) for s in allowed_next(previous_status))
        raise BadInput(
            "status: "
            + _(
                "「%(old)s」から「%(new)s」には変更できません（変更できるのは %(allowed)s）",
                old=status_label(previous_status),
                new=status_label(status),
                allowed=allowed,
            )
        )
    check_state(status=status, progress=progress, actual_start=actual_start, actual_end=actual_end)
    if note:
        return
    # These changes are easy to misread later without a reason beside them.
    if previous_status == "completed" and status != "completed":
        raise BadInput("note: " + _("完了した事業を再開するには、理由をメモに書いてください"))
    if status == "suspended" and previous_status != "suspended":
        raise BadInput("note: " + _("中断にするには、理由をメモに書いてください"))
    if progress < previous_progress:
        raise BadInput("note: " + _("進捗を下げるときは、理由をメモに書いてください"))
