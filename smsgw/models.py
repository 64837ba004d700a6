"""The SMS pipeline's data: forbidden terms, send requests, the outbox, reports, replies, usage.

The outbox is `Message` (one row per recipient, what the sender claims) and `Segment`
(one row per CMPP SUBMIT, created by the sender when it submits, carrying the Msg_Id the
ISMG gave and the status report that came back). Message and segment states are plain
choice fields, not django-fsm: the sender moves thousands of rows per second with
set-based UPDATEs whose WHERE clause is the transition's source state (see
`smsgw/sender.py`); nothing else writes them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core import clock
from core.models import TimeStampedModel


class ForbiddenTerm(TimeStampedModel):
    """A word or phrase that may not appear in a message (九不准, 公通字[2005]77号).

    Staff keep the list in the admin; `sms_enqueue` refuses a text containing an active
    term and records the refusal with the term (`ScreeningRefusal`) as evidence.
    """

    class Category(models.TextChoices):
        CONSTITUTION = "constitution", _("反对宪法所确定的基本原则")
        NATIONAL_SECURITY = "national_security", _("危害国家安全、泄露国家秘密")
        NATIONAL_HONOUR = "national_honour", _("损害国家荣誉和利益")
        ETHNIC_HATRED = "ethnic_hatred", _("煽动民族仇恨、民族歧视")
        RELIGION = "religion", _("破坏国家宗教政策，宣扬邪教和封建迷信")
        RUMOUR = "rumour", _("散布谣言，扰乱社会秩序")
        OBSCENITY = "obscenity", _("散布淫秽、色情、赌博、暴力、凶杀、恐怖")
        DEFAMATION = "defamation", _("侮辱或者诽谤他人")
        OTHER_ILLEGAL = "other_illegal", _("法律、行政法规禁止的其他内容")
        FRAUD = "fraud", _("诈骗及其他违法犯罪信息（公通字[2005]77号）")

    term = models.CharField(_("禁用词"), max_length=50, unique=True)
    category = models.CharField(_("类别"), max_length=30, choices=Category.choices)
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("禁用词")
        verbose_name_plural = _("禁用词")
        ordering = ["category", "term"]

    def __str__(self) -> str:
        return self.term


class ScreeningRefusal(TimeStampedModel):
    """Evidence that a text was refused by content screening: which term, who, when, what."""

    enterprise = models.ForeignKey(
        "customers.Enterprise",
        verbose_name=_("集团客户"),
        on_delete=models.CASCADE,
        related_name="screening_refusals",
    )
    subscription = models.ForeignKey(
        "fulfillment.Subscription",
        verbose_name=_("业务实例"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    term = models.ForeignKey(
        ForbiddenTerm,
        verbose_name=_("命中禁用词"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="refusals",
    )
    term_text = models.CharField(_("禁用词"), max_length=50)
    category = models.CharField(_("类别"), max_length=30, choices=ForbiddenTerm.Category.choices)
    channel = models.CharField(_("渠道"), max_length=20)
    text = models.TextField(_("短信内容"))
    recipient_count = models.PositiveIntegerField(_("号码数"), default=0)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("内容审核拦截")
        verbose_name_plural = _("内容审核拦截")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.enterprise_id} · {self.term_text}"


class OperatorAccount(TimeStampedModel):
    """The operator's own CMPP service account (maintenance notices, payment reminders).

    Not a subscription: nothing is billed and no enterprise whitelist applies. The
    secret is stored encrypted with core.crypto. `SMSGW_OPERATOR_SP_ID` picks the one
    used for notices (default: the first active one).
    """

    name = models.CharField(_("名称"), max_length=60)
    sp_id = models.CharField(_("企业代码（SP_Id）"), max_length=6, unique=True)
    secret_encrypted = models.TextField(_("共享密钥（密文）"), editable=False)
    service_code = models.CharField(_("服务代码"), max_length=16)
    signature = models.CharField(_("签名"), max_length=22, default="【中国移动】")
    cmpp_version = models.CharField(_("CMPP 版本"), max_length=5, default="3.0")
    licensed_rate = models.PositiveIntegerField(_("许可速率（条/秒）"), default=100)
    max_links = models.PositiveSmallIntegerField(_("连接数"), default=1)
    window_size = models.PositiveSmallIntegerField(_("滑动窗口"), default=16)
    ismg_host = models.CharField(_("ISMG 地址"), max_length=100)
    ismg_port = models.PositiveIntegerField(_("ISMG 端口"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("运营商服务账号")
        verbose_name_plural = _("运营商服务账号")
        ordering = ["sp_id"]

    def __str__(self) -> str:
        return f"{self.name}（SP {self.sp_id}）"


class Extension(TimeStampedModel):
    """An extension (扩展码) of a subscription's service code that belongs to a department.

    Replies (MO) dialled to service code + extension are routed to the department.
    """

    subscription = models.ForeignKey(
        "fulfillment.Subscription",
        verbose_name=_("业务实例"),
        on_delete=models.CASCADE,
        related_name="extensions",
    )
    extension = models.CharField(_("扩展码"), max_length=8)
    department = models.CharField(_("部门"), max_length=60)

    class Meta:
        verbose_name = _("扩展码")
        verbose_name_plural = _("扩展码")
        ordering = ["subscription", "extension"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "extension"], name="extension_unique_per_subscription"
            )
        ]

    def __str__(self) -> str:
        return f"{self.extension} · {self.department}"


class SendRequest(TimeStampedModel):
    """One call of `sms_enqueue` (a portal send, an API submit, a campaign or a notice).

    Holds the text as sent (body + approved signature), its segment count, the
    scheduled time and what happened to each recipient: accepted ones became `Message`
    rows, refused ones are listed in `refused` with the rule.
    """

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("企业短信")
        NOTICE = "notice", _("运营商通知")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("自助门户")
        API = "api", _("接口")
        CAMPAIGN = "campaign", _("群发活动")
        ADMIN = "admin", _("管理后台")
        NOTICE = "notice", _("运营商通知")

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.ENTERPRISE)
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    enterprise = models.ForeignKey(
        "customers.Enterprise",
        verbose_name=_("集团客户"),
        on_delete=models.PROTECT,
        related_name="sms_requests",
    )
    subscription = models.ForeignKey(
        "fulfillment.Subscription",
        verbose_name=_("业务实例"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sms_requests",
    )
    operator_account = models.ForeignKey(
        OperatorAccount,
        verbose_name=_("运营商服务账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
    )
    sp_id = models.CharField(_("企业代码（SP_Id）"), max_length=6)
    src_id = models.CharField(_("发送号码"), max_length=21)
    body = models.TextField(_("正文"))
    signature = models.CharField(_("签名"), max_length=22)
    content = models.TextField(_("短信内容（含签名）"))
    segments_per_message = models.PositiveSmallIntegerField(_("每条拆分数"))
    scheduled_at = models.DateTimeField(_("定时发送"), null=True, blank=True)
    idempotency_key = models.CharField(_("幂等键"), max_length=64, null=True, blank=True)
    requested_count = models.PositiveIntegerField(_("提交号码数"), default=0)
    accepted_count = models.PositiveIntegerField(_("受理号码数"), default=0)
    refused_count = models.PositiveIntegerField(_("拒绝号码数"), default=0)
    refused = models.JSONField(
        _("拒绝明细"),
        default=list,
        blank=True,
        help_text=_("[{msisdn, code, rule, reason}]"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The trace id (core.tracing) of the call that accepted the messages. The outbox is
    # a process boundary Celery does not cross: the sender reads the id with the rows it
    # claims and logs each submit, report and webhook under it. Stored once per call
    # (every message of a call shares it), so a 100,000-number COPY carries no extra bytes.
    trace_id = models.CharField(_("跟踪号"), max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("发送请求")
        verbose_name_plural = _("发送请求")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="send_request_unique_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_channel_display()}"


class NoticeBatch(TimeStampedModel):
    """An operator notice (maintenance, payment reminder) sent to one enterprise's contacts."""

    enterprise = models.ForeignKey(
        "customers.Enterprise",
        verbose_name=_("集团客户"),
        on_delete=models.CASCADE,
        related_name="sms_notices",
    )
    topic = models.CharField(_("主题"), max_length=60)
    send_request = models.OneToOneField(
        SendRequest,
        verbose_name=_("发送请求"),
        on_delete=models.PROTECT,
        related_name="notice_batch",
    )

    class Meta:
        verbose_name = _("运营商通知")
        verbose_name_plural = _("运营商通知")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"


class MessageState(models.TextChoices):
    """States of a message and of a segment: queued → submitting → submitted → final."""

    QUEUED = "queued", _("排队中")
    SUBMITTING = "submitting", _("提交中")
    SUBMITTED = "submitted", _("已提交")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("失败")
    EXPIRED = "expired", _("超时未回执")


FINAL_STATES = (MessageState.DELIVERED, MessageState.FAILED, MessageState.EXPIRED)


class Message(models.Model):
    """One recipient of a send request: the outbox row the sender claims.

    `due_at` is when it may be sent (the scheduled time or the enqueue time); a sender
    that claims it sets `lease_owner`/`lease_until`, and another sender may take it over
    once the lease has run out (the first one died). The state summarises the
    segments: submitted when all were accepted by the ISMG, delivered when every
    report said DELIVRD, failed as soon as one failed, expired when reports did not come
    within `SMSGW_REPORT_TIMEOUT_HOURS`.
    """

    send_request = models.ForeignKey(
        SendRequest, verbose_name=_("发送请求"), on_delete=models.CASCADE, related_name="messages"
    )
    enterprise = models.ForeignKey(
        "customers.Enterprise",
        verbose_name=_("集团客户"),
        on_delete=models.PROTECT,
        related_name="sms_messages",
    )
    subscription = models.ForeignKey(
        "fulfillment.Subscription",
        verbose_name=_("业务实例"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sms_messages",
    )
    sp_id = models.CharField(_("企业代码（SP_Id）"), max_length=6)
    msisdn = models.CharField(_("手机号码"), max_length=11, db_index=True)
    state = models.CharField(
        _("状态"), max_length=12, choices=MessageState.choices, default=MessageState.QUEUED
    )
    segments_total = models.PositiveSmallIntegerField(_("拆分条数"))
    created_at = models.DateTimeField(_("受理时间"), default=clock.now, db_index=True)
    due_at = models.DateTimeField(_("计划发送时间"))
    lease_owner = models.CharField(_("处理进程"), max_length=64, blank=True)
    lease_until = models.DateTimeField(_("租约到期"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("提交次数"), default=0)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    error = models.CharField(_("错误"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("短信")
        verbose_name_plural = _("短信")
        ordering = ["-created_at", "-id"]
        permissions = [("view_full_number", _("查看完整手机号码和短信内容"))]
        indexes = [
            models.Index(fields=["state", "due_at"], name="smsgw_msg_due"),
            models.Index(fields=["enterprise", "-created_at"], name="smsgw_msg_enterprise"),
        ]

    def __str__(self) -> str:
        from core.phone import mask_mobile

        return f"#{self.pk} {mask_mobile(self.msisdn)}"

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES


class Segment(models.Model):
    """One CMPP SUBMIT of a message (a long text has several): its Msg_Id and report.

    Created by the sender just before it submits (state submitting, no Msg_Id yet), so
    after a crash the segments without a Msg_Id are exactly the unacknowledged window.
    The timestamps are the segment's history. Msg_Id is kept as its decimal string
    (an unsigned 64-bit value does not fit a signed BIGINT).
    """

    message = models.ForeignKey(
        Message, verbose_name=_("短信"), on_delete=models.CASCADE, related_name="segments"
    )
    seq = models.PositiveSmallIntegerField(_("序号"))
    state = models.CharField(
        _("状态"), max_length=12, choices=MessageState.choices, default=MessageState.SUBMITTING
    )
    msg_id = models.CharField(_("Msg_Id"), max_length=20, blank=True, db_index=True)
    submit_result = models.PositiveIntegerField(_("提交结果"), null=True, blank=True)
    report_stat = models.CharField(_("状态报告"), max_length=7, blank=True)
    submitting_at = models.DateTimeField(_("开始提交"), default=clock.now)
    submitted_at = models.DateTimeField(_("提交应答时间"), null=True, blank=True)
    report_at = models.DateTimeField(_("回执时间"), null=True, blank=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    sender = models.CharField(_("发送进程"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("短信分段")
        verbose_name_plural = _("短信分段")
        ordering = ["message", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["message", "seq"], name="segment_unique_seq")
        ]
        indexes = [models.Index(fields=["state", "submitted_at"], name="smsgw_seg_pending")]

    def __str__(self) -> str:
        return f"{self.message_id}/{self.seq}"


class MoMessage(models.Model):
    """A reply (MO, 上行) received by the sender, routed by the extension in Dest_Id."""

    enterprise = models.ForeignKey(
        "customers.Enterprise",
        verbose_name=_("集团客户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sms_replies",
    )
    subscription = models.ForeignKey(
        "fulfillment.Subscription",
        verbose_name=_("业务实例"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sms_replies",
    )
    department = models.CharField(_("部门"), max_length=60, blank=True)
    msisdn = models.CharField(_("手机号码"), max_length=21, db_index=True)
    dest_id = models.CharField(_("接收号码"), max_length=21)
    extension = models.CharField(_("扩展码"), max_length=21, blank=True)
    text = models.TextField(_("内容"))
    msg_id = models.CharField(_("Msg_Id"), max_length=20, blank=True)
    sp_id = models.CharField(_("企业代码（SP_Id）"), max_length=6, blank=True)
    received_at = models.DateTimeField(_("接收时间"), default=clock.now, db_index=True)

    class Meta:
        verbose_name = _("上行短信")
        verbose_name_plural = _("上行短信")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        from core.phone import mask_mobile

        return f"{mask_mobile(self.msisdn)} → {self.dest_id}"


class DailyUsage(models.Model):
    """Segments per subscription per Asia/Shanghai day: what billing rates.

    `submitted_segments` counts segments the ISMG accepted (one billable message each);
    delivered and failed count the reports received that day. Updated by the sender.
    """

    subscription = models.ForeignKey(
        "fulfillment.Subscription",
        verbose_name=_("业务实例"),
        on_delete=models.PROTECT,
        related_name="daily_usage",
    )
    day = models.DateField(_("日期"))
    submitted_segments = models.PositiveIntegerField(_("提交条数"), default=0)
    delivered_segments = models.PositiveIntegerField(_("成功条数"), default=0)
    failed_segments = models.PositiveIntegerField(_("失败条数"), default=0)

    class Meta:
        verbose_name = _("日用量")
        verbose_name_plural = _("日用量")
        ordering = ["-day", "subscription"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "day"], name="daily_usage_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.day}"


class LinkState(models.Model):
    """What one sender process reports about one CMPP link (for the NOC's link page).

    Written by `smsgw_run` every few seconds; a row not refreshed for a minute belongs to
    a sender that stopped (shown as stale).
    """

    sender = models.CharField(_("发送进程"), max_length=64)
    sp_id = models.CharField(_("企业代码（SP_Id）"), max_length=6, db_index=True)
    link_no = models.PositiveSmallIntegerField(_("连接序号"), default=1)
    peer = models.CharField(_("ISMG 地址"), max_length=100, blank=True)
    state = models.CharField(_("连接状态"), max_length=20)
    connected = models.BooleanField(_("已连接"), default=False)
    connected_since = models.DateTimeField(_("连接时间"), null=True, blank=True)
    window = models.PositiveSmallIntegerField(_("窗口"), default=0)
    window_in_use = models.PositiveSmallIntegerField(_("窗口占用"), default=0)
    last_active_test_at = models.DateTimeField(_("最近链路检测"), null=True, blank=True)
    licensed_rate = models.PositiveIntegerField(_("许可速率（条/秒）"), default=0)
    current_rate = models.FloatField(_("当前速率（条/秒）"), default=0)
    submitted = models.PositiveBigIntegerField(_("累计提交"), default=0)
    reports = models.PositiveBigIntegerField(_("累计回执"), default=0)
    # Every SUBMIT_RESP with Result 8 (流量控制错, CMPP §8.4.3.2; smsgw.cmpp.session),
    # retried or not, since the link's session started: the ISMG telling us to slow down.
    flow_controlled = models.PositiveBigIntegerField(_("累计流控应答"), default=0)
    # Mobile-originated messages (CMPP_DELIVER with Registered_Delivery 0, CMPP §8.4.5.1),
    # counted once reassembled, since the link's session started.
    mo_messages = models.PositiveBigIntegerField(_("累计上行短信"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), default=clock.now)

    class Meta:
        verbose_name = _("链路状态")
        verbose_name_plural = _("链路状态")
        ordering = ["sp_id", "sender", "link_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "sp_id", "link_no"], name="link_state_unique_link"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sp_id}#{self.link_no}@{self.sender}"


class WebhookEndpoint(TimeStampedModel):
    """Where an enterprise application receives delivery reports and replies.

    Each POST is signed: `X-MAS-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
    "<t>.<body>" with the secret>`. The secret is stored encrypted and shown once.
    """

    enterprise = models.OneToOneField(
        "customers.Enterprise",
        verbose_name=_("集团客户"),
        on_delete=models.CASCADE,
        related_name="sms_webhook",
    )
    url = models.URLField(_("回调地址"), max_length=300)
    secret_encrypted = models.TextField(_("签名密钥（密文）"), editable=False)
    send_reports = models.BooleanField(_("推送状态报告"), default=True)
    send_replies = models.BooleanField(_("推送上行短信"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("回调地址")
        verbose_name_plural = _("回调地址")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event POSTed (or to be POSTed) to an enterprise's webhook, with its attempts."""

    class State(models.TextChoices):
        PENDING = "pending", _("待推送")
        DELIVERED = "delivered", _("已推送")
        FAILED = "failed", _("推送失败")

    class Event(models.TextChoices):
        REPORT = "report", _("状态报告")
        REPLY = "reply", _("上行短信")

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("回调地址"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event = models.CharField(_("事件"), max_length=10, choices=Event.choices)
    payload = models.JSONField(_("内容"))
    state = models.CharField(
        _("状态"), max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("推送次数"), default=0)
    last_status = models.PositiveSmallIntegerField(_("最近响应码"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=clock.now)
    delivered_at = models.DateTimeField(_("推送时间"), null=True, blank=True)
    # The trace id of the API call that sent the message this report is about (empty for
    # replies): each attempt logs under it and sends it as X-Trace-Id.
    trace_id = models.CharField(_("跟踪号"), max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("回调推送")
        verbose_name_plural = _("回调推送")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event} #{self.pk}"
