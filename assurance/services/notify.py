"""Notifications by SMS and e-mail, each recorded as a `Notification`.

`sms_send` is the one place that talks to the SMS channel (smsgw); everything else in
assurance goes through `enterprise_notify` or `staff_notify`. Recipients are stored
masked; message text is never logged.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext as _

from core.phone import mask_mobile
from customers.models import Contact, Enterprise
from smsgw.selectors import notice_batch_status
from smsgw.services import SendRefused, operator_notice_send

from ..models import EscalationContact, MaintenanceWindow, Notification, SlaEvent, Ticket

logger = logging.getLogger(__name__)


def _mask_email(address: str) -> str:
    name, _sep, domain = address.partition("@")
    return f"{name[:2]}***@{domain}" if domain else "***"


def sms_send(
    *, enterprise_id: int | None, text: str, topic: str, phone_numbers: list[str]
) -> tuple[str, str, str]:
    """Send one SMS notice through smsgw's operator notices (the simulator in development);
    returns (Notification.Status, batch id, detail). The delivery is followed later by
    `notification_delivery_refresh`. smsgw files notices under an enterprise, so a notice
    about no enterprise (a link alarm) goes by e-mail only."""
    if enterprise_id is None:
        return Notification.Status.SKIPPED, "", _("短信运营通知须关联集团客户，仅发送邮件")
    try:
        batch = operator_notice_send(
            enterprise_id=enterprise_id, text=text, topic=topic, phone_numbers=phone_numbers
        )
    except SendRefused as exc:
        return Notification.Status.FAILED, "", "; ".join(exc.messages)[:300]
    return Notification.Status.QUEUED, str(batch.pk), ""


def notification_delivery_refresh() -> int:
    """Update the SMS notifications still in flight from smsgw's delivery reports;
    returns how many changed."""
    changed = 0
    pending = Notification.objects.filter(
        channel=Notification.Channel.SMS, status=Notification.Status.QUEUED
    ).exclude(batch_id="")
    for notification in pending:
        status = notice_batch_status(int(notification.batch_id))
        detail = _("送达 %(delivered)s / %(total)s，失败 %(failed)s") % status
        new_status = notification.status
        if status["done"]:
            new_status = (
                Notification.Status.DELIVERED
                if status["failed"] == 0
                else Notification.Status.FAILED
            )
        if (new_status, detail) != (notification.status, notification.detail):
            notification.status, notification.detail = new_status, detail[:300]
            notification.save(update_fields=["status", "detail"])
            changed += 1
    return changed


def email_send(*, to: list[str], subject: str, body: str) -> tuple[str, str]:
    """Send one e-mail; returns (Notification.Status, detail)."""
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to, fail_silently=False)
    except OSError as exc:
        logger.warning("assurance e-mail to %d recipient(s) failed: %s", len(to), exc)
        return Notification.Status.FAILED, str(exc)[:300]
    return Notification.Status.SENT, ""


def _record(**fields) -> Notification:
    return Notification.objects.create(**fields)


def enterprise_notify(
    *,
    enterprise: Enterprise,
    topic: str,
    subject: str,
    text: str,
    ticket: Ticket | None = None,
    maintenance: MaintenanceWindow | None = None,
) -> list[Notification]:
    """Tell an enterprise's contacts: one SMS batch to their mobiles, one e-mail each."""
    contacts = list(Contact.objects.filter(enterprise=enterprise))
    mobiles = [c.mobile for c in contacts if c.mobile]
    emails = [c.email for c in contacts if c.email]
    common = {
        "topic": topic,
        "enterprise": enterprise,
        "ticket": ticket,
        "maintenance": maintenance,
    }
    records = []
    if mobiles:
        status, batch_id, detail = sms_send(
            enterprise_id=enterprise.pk, text=text, topic=topic, phone_numbers=mobiles
        )
        records.append(
            _record(
                channel=Notification.Channel.SMS,
                recipient=", ".join(mask_mobile(m) for m in mobiles)[:200],
                status=status,
                batch_id=batch_id,
                detail=detail,
                **common,
            )
        )
    for address in emails:
        status, detail = email_send(to=[address], subject=subject, body=text)
        records.append(
            _record(
                channel=Notification.Channel.EMAIL,
                recipient=_mask_email(address),
                status=status,
                detail=detail,
                **common,
            )
        )
    if not records:
        records.append(
            _record(
                channel=Notification.Channel.EMAIL,
                status=Notification.Status.SKIPPED,
                detail=_("企业没有登记联系人的手机号码或邮箱"),
                **common,
            )
        )
    return records


def staff_notify(
    *,
    people: list[tuple[str, str, str]],
    topic: str,
    subject: str,
    text: str,
    ticket: Ticket | None = None,
) -> list[Notification]:
    """Tell operator staff, given as (name, e-mail, mobile), by e-mail and SMS."""
    records = []
    mobiles = [mobile for _n, _e, mobile in people if mobile]
    if mobiles:
        status, batch_id, detail = sms_send(
            enterprise_id=ticket.enterprise_id if ticket else None,
            text=text,
            topic=topic,
            phone_numbers=mobiles,
        )
        records.append(
            _record(
                topic=topic,
                channel=Notification.Channel.SMS,
                recipient=", ".join(mask_mobile(m) for m in mobiles)[:200],
                status=status,
                batch_id=batch_id,
                detail=detail,
                ticket=ticket,
            )
        )
    for _name, email, _mobile in people:
        if email:
            status, detail = email_send(to=[email], subject=subject, body=text)
            records.append(
                _record(
                    topic=topic,
                    channel=Notification.Channel.EMAIL,
                    recipient=_mask_email(email),
                    status=status,
                    detail=detail,
                    ticket=ticket,
                )
            )
    return records


def escalation_people(ticket: Ticket, level: int) -> list[tuple[str, str, str]]:
    """Who hears about a milestone: the owner (and assignee) for warnings; the shift lead
    on a breach; the department head beyond. Contacts fall back to department heads."""
    from core.models import User
    from core.roles import Role

    people = []
    for user in {ticket.owner, ticket.assignee} - {None}:
        people.append((str(user), user.email, user.mobile))
    if level >= SlaEvent.Level.BREACH:
        wanted = 1 if level == SlaEvent.Level.BREACH else 2
        contacts = EscalationContact.objects.filter(level=wanted, active=True)
        if contacts:
            people += [(c.name, c.email, c.mobile) for c in contacts]
        else:
            heads = User.objects.filter(groups__name=Role.DEPARTMENT_HEAD, is_active=True)
            people += [(str(u), u.email, u.mobile) for u in heads]
    return people


def sla_event_notify(*, event_id: int) -> list[Notification]:
    """Send a milestone's notice to the people `escalation_people` names."""
    event = SlaEvent.objects.select_related("ticket__owner", "ticket__assignee").get(pk=event_id)
    ticket = event.ticket
    text = _("工单 #%(id)s（%(name)s）%(level)s，修复期限 %(deadline)s。") % {
        "id": ticket.pk,
        "name": ticket.name or ticket.description[:30],
        "level": event.get_level_display(),
        "deadline": ticket.sla_deadline or "-",
    }
    return staff_notify(
        people=escalation_people(ticket, event.level),
        topic=f"sla_{event.level}",
        subject=text,
        text=text,
        ticket=ticket,
    )


def sla_event_notify_later(event_id: int) -> None:
    """Queue the milestone notice once the transaction that raised it commits."""
    from ..tasks import sla_event_notify_task

    transaction.on_commit(lambda: sla_event_notify_task.delay(event_id))


def ticket_resolved_notify(*, ticket_id: int) -> list[Notification]:
    """Tell the enterprise its fault is resolved and ask it to confirm in the portal."""
    ticket = Ticket.objects.select_related("enterprise").get(pk=ticket_id)
    if ticket.enterprise is None:
        return []
    text = _("尊敬的客户：您报告的故障（工单 #%(id)s）已处理完毕，请登录企业门户确认或反馈。") % {
        "id": ticket.pk
    }
    return enterprise_notify(
        enterprise=ticket.enterprise,
        topic="ticket_resolved",
        subject=_("故障已处理（工单 #%(id)s）") % {"id": ticket.pk},
        text=text,
        ticket=ticket,
    )
