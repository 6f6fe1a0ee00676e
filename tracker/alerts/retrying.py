"""Send a failed mail again: an admin sets its delivery back to waiting, due now, and the next
`flask send-alerts` run sends it as any other. A mail whose subscription was deleted stays
failed: there is no address left to send it to."""

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tracker.alerts.models import AlertDelivery
from tracker.core import clock
from tracker.core.errors import BadInput
from tracker.core.translate import gettext as _


@dataclass(frozen=True)
class RetriedMails:
    """How many failed mails wait again, and how many stay failed (subscription deleted)."""

    retried: int
    gone: int


def _back_to_waiting() -> dict:
    # Attempts start again from zero: a mail given up after its last temporary refusal
    # would otherwise fail at its first new refusal. The last error stays until the next try.
    return {
        "status": "waiting",
        "due_at": clock.now(),
        "attempts": 0,
        "finished_at": None,
        "message_id": None,
    }


def retry_failed_mail(session: Session, delivery_id: int) -> None:
    """Set one failed delivery back to waiting, or refuse saying why (unknown, not failed,
    or its subscription deleted)."""
    delivery = session.get(AlertDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise BadInput(_("このメールは見つかりません"), field="delivery", code="unknown_value")
    if delivery.status != "failed":
        raise BadInput(
            _("このメールは送れなかったメールではありません（もう送り直したのかもしれません）"),
            field="delivery",
            code="not_failed",
        )
    if delivery.subscription_id is None:
        raise BadInput(
            _("このメールの登録は削除されたため、送り直せません"),
            field="delivery",
            code="subscription_gone",
        )
    for name, value in _back_to_waiting().items():
        setattr(delivery, name, value)
    session.flush()


def retry_all_failed_mails(session: Session) -> RetriedMails:
    """Set every failed delivery whose subscription still exists back to waiting."""
    failed = AlertDelivery.status == "failed"
    retried = session.execute(
        update(AlertDelivery)
        .where(failed, AlertDelivery.subscription_id.is_not(None))
        .values(**_back_to_waiting())
        .returning(AlertDelivery.id)
    ).all()
    gone = session.scalar(select(func.count()).select_from(AlertDelivery).where(failed)) or 0
    session.expire_all()
    return RetriedMails(retried=len(retried), gone=gone)
