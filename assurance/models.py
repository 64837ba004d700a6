"""Assurance models (eTOM OPS Assurance): trouble tickets, their repair clocks, the NOC's
escalation contacts, planned maintenance and every notification sent.

- `FaultClass` sets a ticket's repair clock (第14条第2款: local line 6 h, backbone 24 h;
  others configurable, or "not covered" for the enterprise's own equipment, 第7条/第8条),
  the states in which the clock pauses and, optionally, a `BusinessCalendar`.
- `Ticket` is the TMF621 trouble ticket with its first-contact owner (首问负责制) and the
  clock fields the SLA engine (`assurance.services.sla`) keeps up to date.
- `SlaPause` and `SlaEvent` are the clock's trail: each pause/resume, and each 50 % /
  80 % warning, breach and escalation, raised once.
- `MaintenanceWindow` is planned work (第16条) and `Notification` every SMS/e-mail sent.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core import clock
from core.models import TimeStampedModel

from .calendar import AroundTheClock, BusinessHours


class BusinessCalendar(TimeStampedModel):
    """Working hours and holidays for a repair clock that does not run 24x7."""

    name = models.CharField(_("名称"), max_length=60, unique=True)
    work_start = models.TimeField(_("上班时间"), default=dt.time(8, 30))
    work_end = models.TimeField(_("下班时间"), default=dt.time(17, 30))
    weekdays = models.CharField(
        _("工作日"), max_length=20, default="1,2,3,4,5", help_text=_("ISO 星期数字，逗号分隔")
    )

    class Meta:
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def as_clock(self) -> BusinessHours:
        """The pure clock (assurance.calendar) this calendar describes."""
        weekdays = frozenset(int(d) for d in self.weekdays.split(",") if d.strip().isdigit())
        overrides = {day.date: day.is_working for day in self.days.all()}
        return BusinessHours(
            start=self.work_start, end=self.work_end, weekdays=weekdays, overrides=overrides
        )


class CalendarDay(models.Model):
    """A dated exception: a public holiday (not working) or a make-up working day (调休)."""

    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("工作日历"), on_delete=models.CASCADE, related_name="days"
    )
    date = models.DateField(_("日期"))
    is_working = models.BooleanField(_("上班"), default=False)
    name = models.CharField(_("说明"), max_length=60, blank=True, help_text=_("如 国庆节、调休"))

    class Meta:
        verbose_name = _("节假日/调休")
        verbose_name_plural = _("节假日/调休")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class FaultClass(TimeStampedModel):
    """A kind of fault and its repair clock (第14条第2款).

    `repair_hours` empty means "not covered": faults of the enterprise's own equipment
    (第7条、第8条) get no repair clock and never breach. `pause_states` are the ticket
    states in which the clock stops (by default pending: waiting for the enterprise).
    The default class is used until NOC classifies a ticket; it should be the strictest.
    """

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    repair_hours = models.DecimalField(
        _("修复时限（小时）"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("留空表示不在保障范围（企业自有设备故障）"),
    )
    pause_states = models.JSONField(
        _("计时暂停的状态"), default=list, blank=True, help_text=_('如 ["pending"]')
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("工作日历"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("留空表示 7×24 小时计时"),
    )
    is_default = models.BooleanField(_("未分类时使用"), default=False)
    basis = models.CharField(_("依据"), max_length=100, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("故障类别")
        verbose_name_plural = _("故障类别")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def covered(self) -> bool:
        return self.repair_hours is not None

    @property
    def target_seconds(self) -> int | None:
        return int(self.repair_hours * 3600) if self.repair_hours is not None else None

    def clock(self):
        """The clock this class counts with (24x7 unless it names a calendar)."""
        return self.calendar.as_clock() if self.calendar_id else AroundTheClock()


class TicketTypeMapping(models.Model):
    """Maps the reporter's words (TMF621 `ticketType`, e.g. "connectivity") to a fault
    class, so a ticket gets a sensible clock before NOC classifies it."""

    ticket_type = models.CharField(_("工单类型（报告方用语）"), max_length=60, unique=True)
    fault_class = models.ForeignKey(
        FaultClass, verbose_name=_("故障类别"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("工单类型映射")
        verbose_name_plural = _("工单类型映射")
        ordering = ["ticket_type"]

    def __str__(self) -> str:
        return f"{self.ticket_type} → {self.fault_class}"

    def save(self, *args, **kwargs):
        self.ticket_type = self.ticket_type.strip().casefold()
        super().save(*args, **kwargs)


class Ticket(FSMModelMixin, TimeStampedModel):
    """A trouble ticket (TMF621) against an enterprise's subscriptions and resources.

    acknowledged → inProgress (claimed) ⇄ pending (waiting for the enterprise) / held;
    inProgress → resolved → closed (the enterprise accepts, or the quiet period passes) or
    back to inProgress (the enterprise rejects the resolution); acknowledged/inProgress/
    pending/held → cancelled (withdrawn) or rejected (not a fault of ours / duplicate).
    `owner` is whoever took the ticket first and stays so to the end (首问负责制);
    `assignee` is who works on it now. The `sla_*` fields are written only by the SLA
    engine; `reported_at` is the clock's start and never changes.
    """

    class State(models.TextChoices):
        ACKNOWLEDGED = "acknowledged", _("已受理")
        IN_PROGRESS = "inProgress", _("处理中")
        PENDING = "pending", _("待客户反馈")
        HELD = "held", _("挂起")
        RESOLVED = "resolved", _("已解决")
        CLOSED = "closed", _("已关闭")
        CANCELLED = "cancelled", _("已撤销")
        REJECTED = "rejected", _("已驳回")

    OPEN_STATES = (State.ACKNOWLEDGED, State.IN_PROGRESS, State.PENDING, State.HELD)
    FINAL_STATES = (State.CLOSED, State.CANCELLED, State.REJECTED)

    class Channel(models.TextChoices):
        PORTAL = "portal", _("企业门户")
        API = "api", _("接口")
        STAFF = "staff", _("员工受理")
        ALARM = "alarm", _("链路告警")

    class Exclusion(models.TextChoices):
        NONE = "", _("不排除")
        MAINTENANCE = "maintenance", _("计划维护")
        FORCE_MAJEURE = "force_majeure", _("不可抗力")

    class Escalation(models.IntegerChoices):
        OWNER = 0, _("首问负责人")
        SHIFT_LEAD = 1, _("值班长")
        HEAD = 2, _("部门负责人")

    state = FSMField(
        _("状态"), choices=State.choices, default=State.ACKNOWLEDGED, protected=True, db_index=True
    )
    name = models.CharField(_("标题"), max_length=200, blank=True)
    description = models.TextField(_("故障描述"))
    ticket_type = models.CharField(_("工单类型"), max_length=60)
    severity = models.CharField(_("严重程度"), max_length=60)
    priority = models.CharField(_("优先级"), max_length=60, blank=True)
    channel = models.CharField(_("来源"), max_length=10, choices=Channel.choices)
    external_id = models.CharField(_("外部编号"), max_length=100, blank=True)
    enterprise = models.ForeignKey(
        "customers.Enterprise",
        verbose_name=_("集团客户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报告人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reporter_name = models.CharField(_("报告人姓名"), max_length=60, blank=True)
    reporter_contact = models.CharField(_("报告人联系方式"), max_length=100, blank=True)
    affected_subscriptions = models.ManyToManyField(
        "fulfillment.Subscription", verbose_name=_("受影响业务"), blank=True, related_name="+"
    )
    affected_ports = models.ManyToManyField(
        "fulfillment.MasPort", verbose_name=_("受影响 MAS 端口"), blank=True, related_name="+"
    )
    ismg_link = models.CharField(
        _("ISMG 链路"), max_length=120, blank=True, help_text=_("主机:端口")
    )
    resource_text = models.CharField(
        _("资源摘要"), max_length=300, blank=True, editable=False, db_index=True
    )
    fault_class = models.ForeignKey(
        FaultClass, verbose_name=_("故障类别"), on_delete=models.PROTECT, related_name="tickets"
    )
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("分类人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("首问负责人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_tickets",
    )
    owner_since = models.DateTimeField(_("受理时间"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("当前处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    escalation_level = models.PositiveSmallIntegerField(
        _("升级级别"), choices=Escalation.choices, default=Escalation.OWNER
    )
    reported_at = models.DateTimeField(_("报告时间"), default=clock.now, db_index=True)
    requested_resolution_at = models.DateTimeField(_("期望解决时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("状态变更时间"), default=clock.now)
    status_change_reason = models.TextField(_("状态变更原因"), blank=True)
    resolution = models.TextField(_("处理结果"), blank=True)
    # The repair clock (assurance.services.sla).
    sla_target_seconds = models.PositiveIntegerField(_("修复时限（秒）"), null=True, blank=True)
    sla_paused_seconds = models.FloatField(_("累计暂停（秒）"), default=0)
    sla_paused_since = models.DateTimeField(_("暂停开始"), null=True, blank=True)
    sla_remaining_seconds = models.FloatField(_("暂停时剩余（秒）"), null=True, blank=True)
    sla_deadline = models.DateTimeField(_("修复期限"), null=True, blank=True)
    sla_next_check_at = models.DateTimeField(_("下次检查"), null=True, blank=True)
    sla_stopped_at = models.DateTimeField(_("计时停止"), null=True, blank=True)
    sla_breached = models.BooleanField(_("已超时"), default=False)
    sla_excluded = models.CharField(
        _("不计入考核"), max_length=20, choices=Exclusion.choices, blank=True, default=""
    )
    sla_exclusion_reason = models.TextField(_("排除原因"), blank=True)
    maintenance = models.ForeignKey(
        "MaintenanceWindow",
        verbose_name=_("计划维护"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    tmf_extra = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = _("故障工单")
        verbose_name_plural = _("故障工单")
        ordering = ["-reported_at", "-id"]
        permissions = [
            ("claim_ticket", _("可受理（认领）故障工单")),
            ("exclude_ticket", _("可将工单排除出考核（不可抗力）")),
            ("view_noc_queue", _("可查看网络维护工单队列")),
            ("view_sla_report", _("可查看修复时限报表")),
        ]
        indexes = [
            # The NOC queue: open tickets in its exact order, so a page is an index scan.
            models.Index(
                fields=["sla_deadline", "sla_remaining_seconds", "reported_at", "id"],
                name="ticket_open_queue_idx",
                condition=Q(state__in=["acknowledged", "inProgress", "pending", "held"]),
            ),
            models.Index(fields=["state", "sla_deadline", "id"], name="ticket_queue_idx"),
            models.Index(
                fields=["sla_next_check_at"],
                name="ticket_sla_check_idx",
                condition=Q(sla_next_check_at__isnull=False),
            ),
            models.Index(fields=["enterprise", "state"], name="ticket_enterprise_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name or self.description[:30]}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    # ------------------------------------------------------------------ transitions
    @transition(field=state, source=State.ACKNOWLEDGED, target=State.IN_PROGRESS)
    def start(self, *, at):
        self.status_changed_at = at

    @transition(field=state, source=State.IN_PROGRESS, target=State.PENDING)
    def pend(self, *, at):
        self.status_changed_at = at

    @transition(field=state, source=State.IN_PROGRESS, target=State.HELD)
    def hold(self, *, at):
        self.status_changed_at = at

    @transition(field=state, source=[State.PENDING, State.HELD], target=State.IN_PROGRESS)
    def resume(self, *, at):
        self.status_changed_at = at

    @transition(field=state, source=State.IN_PROGRESS, target=State.RESOLVED)
    def resolve(self, *, at, resolution):
        self.status_changed_at = at
        self.resolved_at = at
        self.resolution = resolution

    @transition(field=state, source=State.RESOLVED, target=State.CLOSED)
    def close(self, *, at):
        self.status_changed_at = at
        self.closed_at = at

    @transition(field=state, source=State.RESOLVED, target=State.IN_PROGRESS)
    def reopen(self, *, at):
        self.status_changed_at = at
        self.resolved_at = None

    @transition(field=state, source=list(OPEN_STATES), target=State.CANCELLED)
    def cancel(self, *, at):
        self.status_changed_at = at
        self.closed_at = at

    @transition(field=state, source=list(OPEN_STATES), target=State.REJECTED)
    def reject(self, *, at):
        self.status_changed_at = at
        self.closed_at = at


class SlaPause(models.Model):
    """One stretch during which a ticket's repair clock stood still, and why."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="pauses"
    )
    state = models.CharField(_("状态"), max_length=20)
    started_at = models.DateTimeField(_("暂停时间"))
    ended_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("暂停人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("恢复人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("计时暂停")
        verbose_name_plural = _("计时暂停记录")
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.started_at} – {self.ended_at or '…'}"


class SlaEvent(models.Model):
    """A milestone of a repair clock, raised once: 50 % and 80 % warnings, the breach at
    100 % and the escalation to the department head at 150 %.

    `due_at` is when the clock crossed the threshold, `raised_at` when the periodic check
    noticed (later if the check ran late); levels are always raised in order.
    """

    class Level(models.IntegerChoices):
        WARN_50 = 50, _("已用时 50%")
        WARN_80 = 80, _("已用时 80%")
        BREACH = 100, _("超时")
        ESCALATE_HEAD = 150, _("超时升级至部门负责人")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="sla_events"
    )
    level = models.PositiveSmallIntegerField(_("级别"), choices=Level.choices)
    due_at = models.DateTimeField(_("到点时间"))
    raised_at = models.DateTimeField(_("发出时间"), default=clock.now)

    class Meta:
        verbose_name = _("时限提醒")
        verbose_name_plural = _("时限提醒与超时")
        ordering = ["ticket", "level"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "level"], name="sla_event_once_per_level")
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.get_level_display()}"


class TicketNote(models.Model):
    """A note on a ticket with its author and time; `public` notes are shown to the
    enterprise, the others are internal to the operator."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("作者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author_name = models.CharField(_("作者姓名"), max_length=100, blank=True)
    text = models.TextField(_("内容"))
    public = models.BooleanField(_("企业可见"), default=False)
    created_at = models.DateTimeField(_("时间"), default=clock.now)

    class Meta:
        verbose_name = _("工单备注")
        verbose_name_plural = _("工单备注")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class TicketAttachment(models.Model):
    """A file (uploaded) or a link (TMF621 attachment by url) on a ticket."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("文件"), upload_to="tickets/%Y/%m/", blank=True)
    url = models.URLField(_("链接"), max_length=500, blank=True)
    name = models.CharField(_("名称"), max_length=200)
    mime_type = models.CharField(_("类型"), max_length=100, blank=True)
    size = models.PositiveIntegerField(_("大小（字节）"), null=True, blank=True)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    public = models.BooleanField(_("企业可见"), default=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("时间"), default=clock.now)

    class Meta:
        verbose_name = _("工单附件")
        verbose_name_plural = _("工单附件")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class EscalationContact(TimeStampedModel):
    """Who is told when a repair clock breaches: the shift lead on duty (level 1) and the
    department head (level 2). Without an active contact for a level, the users of the
    department_head role are told."""

    level = models.PositiveSmallIntegerField(
        _("级别"),
        choices=[(1, _("值班长")), (2, _("部门负责人"))],
    )
    name = models.CharField(_("姓名"), max_length=60)
    email = models.EmailField(_("电子邮箱"), blank=True)
    mobile = models.CharField(_("手机号码"), max_length=11, blank=True)
    active = models.BooleanField(_("在岗"), default=True)

    class Meta:
        verbose_name = _("升级联系人")
        verbose_name_plural = _("升级联系人")
        ordering = ["level", "name"]

    def __str__(self) -> str:
        return f"{self.get_level_display()} {self.name}"


class MaintenanceWindow(FSMModelMixin, TimeStampedModel):
    """Planned work on the network (第16条): a window and the resources it touches.

    draft → announced (notices to every affected enterprise, at least 24 hours before
    the start unless flagged an emergency, with the reason) → completed (a follow-up
    notice that service is restored); draft or announced → cancelled. The enterprises
    affected are taken from the inventory when the work is announced and kept.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        ANNOUNCED = "announced", _("已通知")
        COMPLETED = "completed", _("已恢复")
        CANCELLED = "cancelled", _("已取消")

    class Kind(models.TextChoices):
        CUTOVER = "cutover", _("割接")
        EQUIPMENT_MOVE = "equipment_move", _("设备搬迁")
        LINE_MAINTENANCE = "line_maintenance", _("线路维护")
        OTHER = "other", _("其他")

    state = FSMField(_("状态"), choices=State.choices, default=State.DRAFT, protected=True)
    title = models.CharField(_("标题"), max_length=200)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    description = models.TextField(_("说明"), blank=True)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    emergency = models.BooleanField(_("紧急维护"), default=False)
    emergency_reason = models.TextField(_("紧急原因"), blank=True)
    affected_servers = models.ManyToManyField(
        "fulfillment.MasServer", verbose_name=_("涉及 MAS 服务器"), blank=True, related_name="+"
    )
    affected_ports = models.ManyToManyField(
        "fulfillment.MasPort", verbose_name=_("涉及 MAS 端口"), blank=True, related_name="+"
    )
    affected_service_codes = models.ManyToManyField(
        "fulfillment.ServiceCode", verbose_name=_("涉及服务代码"), blank=True, related_name="+"
    )
    ismg_links = models.TextField(
        _("涉及 ISMG 链路"), blank=True, help_text=_("每行一个，格式 主机:端口")
    )
    affected_enterprises = models.ManyToManyField(
        "customers.Enterprise", verbose_name=_("受影响企业"), blank=True, related_name="+"
    )
    announced_at = models.DateTimeField(_("通知时间"), null=True, blank=True)
    restored_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("计划维护")
        verbose_name_plural = _("计划维护")
        ordering = ["-starts_at", "-id"]
        permissions = [("announce_emergency", _("可发布紧急维护通知（不足24小时）"))]

    def __str__(self) -> str:
        return self.title

    def links(self) -> list[tuple[str, int]]:
        """The ISMG links as (host, port)."""
        result = []
        for line in self.ismg_links.splitlines():
            host, _sep, port = line.strip().rpartition(":")
            if host and port.isdigit():
                result.append((host, int(port)))
        return result

    @transition(field=state, source=State.DRAFT, target=State.ANNOUNCED)
    def announce(self, *, at):
        self.announced_at = at

    @transition(field=state, source=State.ANNOUNCED, target=State.COMPLETED)
    def complete(self, *, at):
        self.restored_at = at

    @transition(field=state, source=[State.DRAFT, State.ANNOUNCED], target=State.CANCELLED)
    def cancel(self):
        pass


class Notification(models.Model):
    """One SMS or e-mail sent about a ticket or a maintenance window, with its delivery.

    The recipient is stored masked (personal data); SMS sent through smsgw keep the
    batch id so the delivery can be followed.
    """

    class Channel(models.TextChoices):
        SMS = "sms", _("短信")
        EMAIL = "email", _("电子邮件")

    class Status(models.TextChoices):
        QUEUED = "queued", _("已提交")
        SENT = "sent", _("已发送")
        DELIVERED = "delivered", _("已送达")
        FAILED = "failed", _("失败")
        SKIPPED = "skipped", _("未发送")

    topic = models.CharField(_("主题"), max_length=40, db_index=True)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("收件人（脱敏）"), max_length=200, blank=True)
    enterprise = models.ForeignKey(
        "customers.Enterprise",
        verbose_name=_("集团客户"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("工单"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    maintenance = models.ForeignKey(
        MaintenanceWindow,
        verbose_name=_("计划维护"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    batch_id = models.CharField(_("短信批次"), max_length=60, blank=True)
    detail = models.CharField(_("说明"), max_length=300, blank=True)
    sent_at = models.DateTimeField(_("时间"), default=clock.now)

    class Meta:
        verbose_name = _("通知记录")
        verbose_name_plural = _("通知记录")
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.topic} → {self.recipient}"
