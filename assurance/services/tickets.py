"""Ticket services: open, claim (首问负责制), hand over, the TMF621 transitions, notes,
attachments, reclassification and exclusion from the SLA statistics.

Every transition goes through `_transition`: lock the ticket, raise the clock's due
milestones (so a late resolution still records its breach), change state, keep the
pause records in step with the fault class's pause states, recompute the clock, save,
record the state change and publish the TMF621 events, all in one transaction.
"""

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from core import clock
from core.models import User
from core.services import state_change_record
from fulfillment.models import MasPort, Subscription

from ..models import (
    FaultClass,
    MaintenanceWindow,
    SlaPause,
    Ticket,
    TicketAttachment,
    TicketNote,
    TicketTypeMapping,
)
from .sla import sla_raise_due, sla_recompute

STOPPED_STATES = (
    Ticket.State.RESOLVED,
    Ticket.State.CLOSED,
    Ticket.State.CANCELLED,
    Ticket.State.REJECTED,
)


def _events():
    from ..api import events

    return events


def fault_class_for(ticket_type: str, code: str | None = None) -> FaultClass:
    """The fault class named by `code`, else mapped from the reporter's ticket type, else
    the default class."""
    if code:
        try:
            return FaultClass.objects.get(code=code)
        except FaultClass.DoesNotExist as exc:
            raise ValidationError({"fault_class": _("没有代码为“%s”的故障类别") % code}) from exc
    mapping = (
        TicketTypeMapping.objects.select_related("fault_class")
        .filter(ticket_type=(ticket_type or "").strip().casefold())
        .first()
    )
    if mapping is not None:
        return mapping.fault_class
    default = FaultClass.objects.filter(is_default=True).order_by("sort_order").first()
    if default is None:
        raise ValidationError(_("未配置默认故障类别"))
    return default


def _resource_text(ticket: Ticket, subscriptions: list[Subscription], ports: list[MasPort]) -> str:
    parts = [s.service_code.code for s in subscriptions]
    parts += [f"{p.server.name}:{p.number}" for p in ports]
    if ticket.ismg_link:
        parts.append(ticket.ismg_link)
    return " ".join(parts)[:300]


def _maintenance_covering(ticket: Ticket) -> MaintenanceWindow | None:
    """An announced (or completed) maintenance window that covers the ticket's report time
    and touches its enterprise."""
    if ticket.enterprise_id is None:
        return None
    return (
        MaintenanceWindow.objects.filter(
            state__in=[MaintenanceWindow.State.ANNOUNCED, MaintenanceWindow.State.COMPLETED],
            starts_at__lte=ticket.reported_at,
            ends_at__gte=ticket.reported_at,
            affected_enterprises=ticket.enterprise_id,
        )
        .order_by("starts_at")
        .first()
    )


def _exclude_for_maintenance(ticket: Ticket, window: MaintenanceWindow) -> None:
    ticket.sla_excluded = Ticket.Exclusion.MAINTENANCE
    ticket.maintenance = window
    ticket.sla_exclusion_reason = _("计划维护（第16条）：%(title)s %(start)s–%(end)s") % {
        "title": window.title,
        "start": window.starts_at.isoformat(timespec="minutes"),
        "end": window.ends_at.isoformat(timespec="minutes"),
    }


@transaction.atomic
def ticket_create(
    *,
    by: User | None,
    description: str,
    ticket_type: str,
    severity: str,
    channel: str,
    enterprise_id: int | None = None,
    name: str = "",
    priority: str = "",
    subscription_ids: Iterable[int] = (),
    port_ids: Iterable[int] = (),
    ismg_link: str = "",
    fault_class_code: str | None = None,
    reporter_name: str = "",
    reporter_contact: str = "",
    external_id: str = "",
    requested_resolution_at: dt.datetime | None = None,
    tmf_extra: dict | None = None,
    take_ownership: bool = False,
) -> Ticket:
    """Open a ticket; its repair clock starts now.

    The affected subscriptions must belong to the ticket's enterprise (taken from them
    when not given). The fault class is `fault_class_code` (staff), else mapped from the
    ticket type, else the default. A fault reported inside an announced maintenance
    window touching the enterprise is excluded from breach statistics, with the reason.
    `take_ownership`: staff who receive the report themselves become its first-contact
    owner (首问负责制).
    """
    if not (description or "").strip():
        raise ValidationError({"description": _("请填写故障描述")})
    subscriptions = list(
        Subscription.objects.filter(pk__in=list(subscription_ids)).select_related("service_code")
    )
    if len(subscriptions) != len(set(subscription_ids)):
        raise ValidationError({"subscriptions": _("受影响业务不存在")})
    enterprises = {s.enterprise_id for s in subscriptions}
    if enterprise_id is None and len(enterprises) == 1:
        enterprise_id = enterprises.pop()
    elif enterprises - {enterprise_id}:
        raise ValidationError({"subscriptions": _("受影响业务须属于报告故障的企业")})
    ports = list(MasPort.objects.filter(pk__in=list(port_ids)).select_related("server"))
    now = clock.now()
    ticket = Ticket(
        name=(name or "")[:200],
        description=description.strip(),
        ticket_type=(ticket_type or "")[:60],
        severity=(severity or "")[:60],
        priority=(priority or "")[:60],
        channel=channel,
        enterprise_id=enterprise_id,
        reported_by=by if by is not None and by.is_authenticated else None,
        reporter_name=(reporter_name or (str(by) if by else ""))[:60],
        reporter_contact=(reporter_contact or "")[:100],
        ismg_link=(ismg_link or "")[:120],
        external_id=(external_id or "")[:100],
        requested_resolution_at=requested_resolution_at,
        fault_class=fault_class_for(ticket_type, fault_class_code),
        reported_at=now,
        status_changed_at=now,
        tmf_extra=tmf_extra or {},
    )
    if take_ownership and by is not None:
        ticket.owner, ticket.owner_since, ticket.assignee = by, now, by
    ticket.resource_text = _resource_text(ticket, subscriptions, ports)
    window = _maintenance_covering(ticket)
    if window is not None:
        _exclude_for_maintenance(ticket, window)
    ticket.full_clean(exclude=["state", "fault_class"])
    sla_recompute(ticket, now=now)
    ticket.save()
    ticket.affected_subscriptions.set(subscriptions)
    ticket.affected_ports.set(ports)
    state_change_record(obj=ticket, before="", by=by, reason=_("故障报告"))
    _events().publish(ticket, "TroubleTicketCreateEvent")
    return ticket


def _locked(ticket_id: int) -> Ticket:
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("fault_class__calendar")
        .get(pk=ticket_id)
    )


def _sync_pause(ticket: Ticket, *, now: dt.datetime, by: User | None) -> None:
    """Open or close the pause record so it matches the state and the fault class."""
    should_pause = ticket.state in (ticket.fault_class.pause_states or [])
    open_pause = SlaPause.objects.filter(ticket=ticket, ended_at__isnull=True).first()
    if ticket.state in STOPPED_STATES:
        should_pause = False
    if should_pause and open_pause is None:
        SlaPause.objects.create(ticket=ticket, state=ticket.state, started_at=now, started_by=by)
    elif not should_pause and open_pause is not None:
        open_pause.ended_at, open_pause.ended_by = now, by
        open_pause.save(update_fields=["ended_at", "ended_by"])


def _transition(
    ticket_id: int, *, by: User | None, method: str, reason: str = "", **kwargs
) -> Ticket:
    ticket = _locked(ticket_id)
    now = clock.now()
    sla_raise_due(ticket, now=now)
    before = ticket.state
    getattr(ticket, method)(at=now, **kwargs)
    if reason:
        ticket.status_change_reason = reason
    _sync_pause(ticket, now=now, by=by)
    if ticket.state in STOPPED_STATES:
        ticket.sla_stopped_at = ticket.sla_stopped_at or now
    else:
        ticket.sla_stopped_at = None
    sla_recompute(ticket, now=now)
    ticket.save()
    state_change_record(obj=ticket, before=before, by=by, reason=reason)
    events = _events()
    events.publish(ticket, "TroubleTicketStatusChangeEvent")
    if ticket.state == Ticket.State.RESOLVED:
        events.publish(ticket, "TroubleTicketResolvedEvent")
    return ticket


@transaction.atomic
def ticket_claim(*, ticket_id: int, by: User) -> Ticket:
    """Take a ticket: the first to take it becomes its owner for good (首问负责制) and
    works on it; a later claim by someone else only makes them the assignee."""
    ticket = _locked(ticket_id)
    if not ticket.is_open:
        raise ValidationError(_("工单已结束，不能受理"))
    now = clock.now()
    if ticket.owner_id is None:
        ticket.owner, ticket.owner_since = by, now
    ticket.assignee = by
    ticket.save(update_fields=["owner", "owner_since", "assignee"])
    if ticket.state == Ticket.State.ACKNOWLEDGED:
        return _transition(ticket_id, by=by, method="start", reason=_("受理"))
    return ticket


@transaction.atomic
def ticket_assign(*, ticket_id: int, by: User, to: User, reason: str = "") -> Ticket:
    """Hand the work to someone else; the first-contact owner stays the owner."""
    ticket = _locked(ticket_id)
    if not ticket.is_open:
        raise ValidationError(_("工单已结束，不能转派"))
    if not to.is_staff:
        raise ValidationError({"to": _("只能转派给运营人员")})
    ticket.assignee = to
    if ticket.owner_id is None:
        ticket.owner, ticket.owner_since = by, clock.now()
    ticket.save(update_fields=["assignee", "owner", "owner_since"])
    TicketNote.objects.create(
        ticket=ticket,
        author=by,
        author_name=str(by),
        text=_("转派给 %(to)s。%(reason)s") % {"to": to, "reason": reason},
        public=False,
    )
    return ticket


@transaction.atomic
def ticket_start(*, ticket_id: int, by: User, reason: str = "") -> Ticket:
    """acknowledged → inProgress (see ticket_claim, which also sets the owner)."""
    return _transition(ticket_id, by=by, method="start", reason=reason)


@transaction.atomic
def ticket_pend(*, ticket_id: int, by: User, reason: str) -> Ticket:
    """inProgress → pending: waiting for the enterprise (the clock pauses by default)."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请说明需要企业提供什么")})
    return _transition(ticket_id, by=by, method="pend", reason=reason)


@transaction.atomic
def ticket_hold(*, ticket_id: int, by: User, reason: str) -> Ticket:
    """inProgress → held (the clock runs on unless the fault class pauses in held)."""
    return _transition(ticket_id, by=by, method="hold", reason=reason)


@transaction.atomic
def ticket_resume(*, ticket_id: int, by: User | None, reason: str = "") -> Ticket:
    """pending/held → inProgress; the clock runs again."""
    return _transition(ticket_id, by=by, method="resume", reason=reason)


@transaction.atomic
def ticket_resolve(*, ticket_id: int, by: User, resolution: str) -> Ticket:
    """inProgress → resolved: the clock stops; the enterprise is asked to confirm."""
    if not (resolution or "").strip():
        raise ValidationError({"resolution": _("请填写处理结果")})
    ticket = _transition(
        ticket_id, by=by, method="resolve", reason=resolution, resolution=resolution
    )
    TicketNote.objects.create(
        ticket=ticket, author=by, author_name=str(by), text=resolution, public=True
    )
    if ticket.enterprise_id:
        transaction.on_commit(lambda: _ticket_resolved_notify_task().delay(ticket.pk))
    return ticket


def _ticket_resolved_notify_task():
    from ..tasks import ticket_resolved_notify_task

    return ticket_resolved_notify_task


@transaction.atomic
def ticket_accept_resolution(*, ticket_id: int, by: User | None, comment: str = "") -> Ticket:
    """resolved → closed: the enterprise confirms the repair."""
    ticket = _transition(ticket_id, by=by, method="close", reason=comment or _("企业确认"))
    if comment:
        ticket_note_add(ticket_id=ticket.pk, by=by, text=comment, public=True)
    return ticket


@transaction.atomic
def ticket_reject_resolution(*, ticket_id: int, by: User | None, reason: str) -> Ticket:
    """resolved → inProgress: the enterprise says the fault is still there; the clock
    runs again and the time since the resolution counts."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请说明故障仍然存在的情况")})
    ticket = _transition(ticket_id, by=by, method="reopen", reason=reason)
    ticket_note_add(ticket_id=ticket.pk, by=by, text=reason, public=True)
    return ticket


@transaction.atomic
def ticket_cancel(*, ticket_id: int, by: User | None, reason: str) -> Ticket:
    """Withdraw a ticket (the reporter no longer needs it)."""
    return _transition(ticket_id, by=by, method="cancel", reason=reason or _("撤销"))


@transaction.atomic
def ticket_reject(*, ticket_id: int, by: User, reason: str) -> Ticket:
    """Refuse a ticket (not a fault, duplicate, outside the service)."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请说明驳回原因")})
    return _transition(ticket_id, by=by, method="reject", reason=reason)


def tickets_close_quiet(*, now: dt.datetime | None = None) -> int:
    """Close resolved tickets the enterprise has not answered within the quiet period
    (setting ASSURANCE_RESOLVED_QUIET_HOURS). Returns how many were closed."""
    now = now or clock.now()
    limit = now - dt.timedelta(hours=settings.ASSURANCE_RESOLVED_QUIET_HOURS)
    ids = list(
        Ticket.objects.filter(state=Ticket.State.RESOLVED, resolved_at__lte=limit).values_list(
            "pk", flat=True
        )
    )
    for ticket_id in ids:
        with transaction.atomic():
            _transition(
                ticket_id, by=None, method="close", reason=_("企业未反馈，静默期满自动关闭")
            )
    return len(ids)


@transaction.atomic
def ticket_reclassify(
    *, ticket_id: int, fault_class_code: str, by: User, reason: str = ""
) -> Ticket:
    """Set the fault class; the deadline is recomputed from the original report time
    with the new target, keeping every recorded pause."""
    ticket = _locked(ticket_id)
    if ticket.state in Ticket.FINAL_STATES:
        raise ValidationError(_("工单已结束，不能重新分类"))
    new_class = fault_class_for("", fault_class_code)
    now = clock.now()
    sla_raise_due(ticket, now=now)
    before = ticket.fault_class.code
    ticket.fault_class = new_class
    ticket.classified_by = by
    _sync_pause(ticket, now=now, by=by)
    sla_recompute(ticket, now=now)
    ticket.save()
    state_change_record(
        obj=_with_class_code(ticket), before=before, by=by, reason=reason, field="fault_class_code"
    )
    sla_raise_due(ticket, now=now)
    _events().publish(ticket, "TroubleTicketAttributeValueChangeEvent")
    return ticket


def _with_class_code(ticket: Ticket) -> Ticket:
    ticket.fault_class_code = ticket.fault_class.code
    return ticket


@transaction.atomic
def ticket_exclude(*, ticket_id: int, by: User, kind: str, reason: str) -> Ticket:
    """Exclude a ticket from the breach statistics (force majeure, 第15条; or
    maintenance), keeping the reason. An empty kind puts it back in."""
    if kind not in Ticket.Exclusion.values:
        raise ValidationError({"kind": _("未知的排除类型")})
    if kind and not (reason or "").strip():
        raise ValidationError({"reason": _("排除出考核须说明原因")})
    ticket = _locked(ticket_id)
    before = ticket.sla_excluded
    ticket.sla_excluded = kind
    ticket.sla_exclusion_reason = reason if kind else ""
    ticket.save(update_fields=["sla_excluded", "sla_exclusion_reason"])
    state_change_record(obj=ticket, before=before, by=by, reason=reason, field="sla_excluded")
    return ticket


@transaction.atomic
def ticket_note_add(*, ticket_id: int, by: User | None, text: str, public: bool) -> TicketNote:
    """Add a note; `public` notes are shown to the enterprise."""
    if not (text or "").strip():
        raise ValidationError({"text": _("备注不能为空")})
    ticket = Ticket.objects.get(pk=ticket_id)
    note = TicketNote.objects.create(
        ticket=ticket,
        author=by if by is not None and by.is_authenticated else None,
        author_name=str(by) if by else "",
        text=text.strip(),
        public=public,
    )
    Ticket.objects.filter(pk=ticket_id).update(updated_at=clock.now())
    return note


@transaction.atomic
def ticket_attachment_add(
    *,
    ticket_id: int,
    by: User | None,
    name: str,
    file=None,
    url: str = "",
    mime_type: str = "",
    description: str = "",
    public: bool = True,
) -> TicketAttachment:
    """Attach an uploaded file or a link (TMF621 attachment by url)."""
    if file is None and not url:
        raise ValidationError(_("请上传文件或填写链接"))
    size = getattr(file, "size", None)
    if size is not None and size > settings.ASSURANCE_ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            {"file": _("附件不能超过 %d MB") % (settings.ASSURANCE_ATTACHMENT_MAX_BYTES // 2**20)}
        )
    attachment = TicketAttachment(
        ticket_id=ticket_id,
        file=file,
        url=url,
        name=(name or getattr(file, "name", "") or url)[:200],
        mime_type=mime_type or getattr(file, "content_type", "") or "",
        size=size,
        description=description[:300],
        public=public,
        author=by if by is not None and by.is_authenticated else None,
    )
    attachment.full_clean(exclude=["file"])
    attachment.save()
    return attachment


@transaction.atomic
def ticket_raise_from_alarm(*, ismg_host: str, ismg_port: int, text: str) -> Ticket:
    """A link alarm on an ISMG link: open a backbone ticket for it, or add the alarm to
    the open one for the same link (one ticket per outage)."""
    link = f"{ismg_host}:{ismg_port}"
    existing = (
        Ticket.objects.filter(channel=Ticket.Channel.ALARM, ismg_link=link)
        .filter(Q(state__in=Ticket.OPEN_STATES))
        .first()
    )
    if existing is not None:
        TicketNote.objects.create(ticket=existing, author_name=_("链路告警"), text=text)
        return existing
    return ticket_create(
        by=None,
        description=text,
        ticket_type="linkAlarm",
        severity="critical",
        channel=Ticket.Channel.ALARM,
        name=_("ISMG 链路告警 %s") % link,
        ismg_link=link,
        reporter_name=_("链路告警"),
    )


@transaction.atomic
def ticket_delete(*, ticket_id: int, by: User | None) -> None:
    """Delete a ticket entered by mistake: only while acknowledged and nobody has taken it."""
    ticket = _locked(ticket_id)
    if ticket.state != Ticket.State.ACKNOWLEDGED or ticket.owner_id is not None:
        raise ValidationError(_("只能删除尚未受理的工单；其他工单请撤销"), code="conflict")
    _events().publish(ticket, "TroubleTicketDeleteEvent")
    state_change_record(obj=ticket, before=ticket.state, by=by, reason=_("删除"))
    ticket.delete()
