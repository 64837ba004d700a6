"""Planned maintenance (第16条): announce at least 24 hours ahead to the enterprises the
inventory says are affected, by SMS and e-mail; a follow-up when service is restored.

An emergency may be announced with shorter notice, but only flagged as such, with its
reason; the SLA report lists such emergencies.
"""

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import clock
from core.models import User
from core.services import state_change_record
from fulfillment.selectors import enterprises_affected_by

from ..models import MaintenanceWindow, Ticket
from .notify import enterprise_notify

NOTICE_HOURS = 24


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


@transaction.atomic
def maintenance_create(
    *,
    by: User | None,
    title: str,
    kind: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    description: str = "",
    server_ids: Iterable[int] = (),
    port_ids: Iterable[int] = (),
    service_code_ids: Iterable[int] = (),
    ismg_links: str = "",
    emergency: bool = False,
    emergency_reason: str = "",
) -> MaintenanceWindow:
    """Record planned work (a draft until announced)."""
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("结束时间须晚于开始时间")})
    window = MaintenanceWindow(
        title=title,
        kind=kind,
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        ismg_links=ismg_links,
        emergency=emergency,
        emergency_reason=emergency_reason,
        created_by=by,
    )
    window.full_clean(exclude=["state"])
    window.save()
    window.affected_servers.set(list(server_ids))
    window.affected_ports.set(list(port_ids))
    window.affected_service_codes.set(list(service_code_ids))
    return window


def affected_enterprises(window: MaintenanceWindow):
    """The enterprises whose live subscriptions use any resource the work touches."""
    return enterprises_affected_by(
        service_code_ids=window.affected_service_codes.values_list("pk", flat=True),
        port_ids=window.affected_ports.values_list("pk", flat=True),
        mas_server_ids=window.affected_servers.values_list("pk", flat=True),
        ismg_links=window.links(),
    )


def notice_text(window: MaintenanceWindow, topic: str) -> tuple[str, str]:
    """(subject, text) of a maintenance notice."""
    values = {
        "title": window.title,
        "start": _local(window.starts_at),
        "end": _local(window.ends_at),
        "kind": window.get_kind_display(),
    }
    if topic == "maintenance_restored":
        subject = _("【业务恢复】%(title)s") % values
        text = _("尊敬的客户：%(title)s（%(kind)s）已完成，集团短信业务已恢复正常。") % values
    elif topic == "maintenance_cancelled":
        subject = _("【维护取消】%(title)s") % values
        text = _("尊敬的客户：原定于 %(start)s 至 %(end)s 的%(title)s已取消。") % values
    else:
        prefix = _("【紧急维护】") if window.emergency else _("【维护通知】")
        subject = prefix + window.title
        text = (
            prefix
            + _(
                "尊敬的客户：我公司将于 %(start)s 至 %(end)s 进行%(kind)s（%(title)s），"
                "期间集团短信业务可能中断，请提前做好安排。"
            )
            % values
        )
    return subject, text


@transaction.atomic
def maintenance_announce(*, window_id: int, by: User | None) -> MaintenanceWindow:
    """Announce planned work: fix the affected enterprises, send the notices (after the
    commit) and exclude faults reported inside the window from breach statistics.

    Refused with less than 24 hours' notice unless the work is flagged an emergency with
    a reason (第16条).
    """
    window = MaintenanceWindow.objects.select_for_update().get(pk=window_id)
    now = clock.now()
    if window.starts_at - now < dt.timedelta(hours=NOTICE_HOURS):
        if not window.emergency:
            raise ValidationError(
                _(
                    "第16条：计划维护须至少提前24小时通知（开始时间 %(start)s）；"
                    "紧急维护请勾选“紧急维护”并说明原因"
                )
                % {"start": _local(window.starts_at)}
            )
        if not window.emergency_reason.strip():
            raise ValidationError({"emergency_reason": _("紧急维护须说明原因")})
    before = window.state
    window.announce(at=now)
    window.save()
    enterprises = list(affected_enterprises(window))
    window.affected_enterprises.set(enterprises)
    state_change_record(
        obj=window,
        before=before,
        by=by,
        reason=_("紧急维护：%s") % window.emergency_reason if window.emergency else "",
    )
    _exclude_tickets(window)
    _notify_later(window.pk, "maintenance_notice")
    return window


def _exclude_tickets(window: MaintenanceWindow) -> int:
    """Tickets already reported inside the window by an affected enterprise."""
    from .tickets import _exclude_for_maintenance

    count = 0
    for ticket in Ticket.objects.filter(
        reported_at__gte=window.starts_at,
        reported_at__lte=window.ends_at,
        enterprise__in=window.affected_enterprises.all(),
        sla_excluded="",
    ):
        _exclude_for_maintenance(ticket, window)
        ticket.save(update_fields=["sla_excluded", "maintenance", "sla_exclusion_reason"])
        count += 1
    return count


@transaction.atomic
def maintenance_complete(*, window_id: int, by: User | None, note: str = "") -> MaintenanceWindow:
    """Service is restored: tell the affected enterprises."""
    window = MaintenanceWindow.objects.select_for_update().get(pk=window_id)
    before = window.state
    window.complete(at=clock.now())
    window.save()
    state_change_record(obj=window, before=before, by=by, reason=note)
    _notify_later(window.pk, "maintenance_restored")
    return window


@transaction.atomic
def maintenance_cancel(*, window_id: int, by: User | None, reason: str = "") -> MaintenanceWindow:
    """Call the work off; enterprises already told are told it is cancelled."""
    window = MaintenanceWindow.objects.select_for_update().get(pk=window_id)
    before = window.state
    window.cancel()
    window.save()
    state_change_record(obj=window, before=before, by=by, reason=reason)
    if before == MaintenanceWindow.State.ANNOUNCED:
        _notify_later(window.pk, "maintenance_cancelled")
    return window


def _notify_later(window_id: int, topic: str) -> None:
    from ..tasks import maintenance_notify_task

    transaction.on_commit(lambda: maintenance_notify_task.delay(window_id, topic))


def maintenance_notify(*, window_id: int, topic: str) -> int:
    """Send one notice (advance, restored or cancelled) to every affected enterprise;
    returns the number of enterprises told. Runs in a task, after the commit."""
    window = MaintenanceWindow.objects.get(pk=window_id)
    subject, text = notice_text(window, topic)
    enterprises = list(window.affected_enterprises.all())
    for enterprise in enterprises:
        with transaction.atomic():
            enterprise_notify(
                enterprise=enterprise,
                topic=topic,
                subject=subject,
                text=text,
                maintenance=window,
            )
    return len(enterprises)
