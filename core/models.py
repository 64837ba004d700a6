"""Kernel models: the user, the uniform record of every state change, and the TMF event hub
(subscriptions, the event outbox, deliveries and their attempts)."""

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from . import clock


class TimeStampedModel(models.Model):
    """Adds creation and last-update times, set from the injectable clock."""

    created_at = models.DateTimeField(_("创建时间"), default=clock.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), default=clock.now, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.updated_at = clock.now()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "updated_at" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "updated_at"]
        super().save(*args, **kwargs)


class User(AbstractUser):
    """A person who logs in: operator staff (customer manager, NOC, finance) or an
    enterprise user. Roles are Django groups (see core.roles); an enterprise user's
    enterprise is recorded by customers.EnterpriseMembership."""

    display_name = models.CharField(_("姓名"), max_length=60, blank=True)
    mobile = models.CharField(_("手机号码"), max_length=11, blank=True)

    class Meta(AbstractUser.Meta):
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class StateChange(models.Model):
    """One transition of any state machine in the project: object, from, to, who, when, why.

    Written only by `core.services.state_change_record` (or `state_changes_record` for a
    batch), which every transition service calls in the same transaction as the change it
    records.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    field = models.CharField(_("状态字段"), max_length=40, default="state")
    from_state = models.CharField(_("原状态"), max_length=40)
    to_state = models.CharField(_("新状态"), max_length=40)
    by = models.ForeignKey(
        User,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=clock.now, db_index=True)
    reason = models.TextField(_("原因"), blank=True)

    class Meta:
        verbose_name = _("状态变更记录")
        verbose_name_plural = _("状态变更记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"])]

    def __str__(self) -> str:
        return f"{self.content_type.model}#{self.object_id}: {self.from_state} → {self.to_state}"


class EventSubscription(TimeStampedModel):
    """A listener registered on a TMF API's hub (`POST {api}/hub`).

    Events of that API whose envelope matches `query` (see `core.tmf.events`) are POSTed
    to `callback`. The subscriber (`owner`) and, for an enterprise caller, the enterprise
    it acts for (`enterprise_id`, a plain id because `core` does not know the enterprise
    model) decide which events it may receive: an event is never delivered to a
    subscriber that could not read the resource through the API.
    """

    api = models.CharField(_("接口"), max_length=60, db_index=True)
    callback = models.URLField(_("回调地址"), max_length=500)
    query = models.CharField(_("订阅条件"), max_length=500, blank=True)
    owner = models.ForeignKey(
        User,
        verbose_name=_("订阅人"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="event_subscriptions",
    )
    enterprise_id = models.PositiveBigIntegerField(_("企业范围"), null=True, blank=True)

    class Meta:
        verbose_name = _("事件订阅")
        verbose_name_plural = _("事件订阅")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.api} → {self.callback}"


class OutboxEvent(models.Model):
    """One TMF event (envelope in `payload`), written in the transaction of the change.

    Written by `core.tmf.events.publish` only when some subscription matches; one
    EventDelivery per matching subscription carries it out.
    """

    api = models.CharField(_("接口"), max_length=60, db_index=True)
    event_id = models.UUIDField(_("事件标识"), unique=True)
    event_type = models.CharField(_("事件类型"), max_length=100, db_index=True)
    event_time = models.DateTimeField(_("事件时间"), default=clock.now, db_index=True)
    payload = models.JSONField(_("事件内容"))

    class Meta:
        verbose_name = _("事件")
        verbose_name_plural = _("事件发件箱")
        ordering = ["-event_time", "-id"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class EventDelivery(FSMModelMixin, models.Model):
    """Getting one event to one subscriber's callback, with its attempts.

    pending → delivered (a 2xx answer) or → failed (attempts used up); an operator may
    send a failed delivery again (failed → pending). Each attempt is a DeliveryAttempt
    row, which is the delivery's trail; only the operator's resend is also recorded as a
    StateChange, being a person's decision.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("待投递")
        DELIVERED = "delivered", _("已送达")
        FAILED = "failed", _("投递失败")

    event = models.ForeignKey(
        OutboxEvent, verbose_name=_("事件"), on_delete=models.CASCADE, related_name="deliveries"
    )
    subscription = models.ForeignKey(
        EventSubscription,
        verbose_name=_("订阅"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    callback = models.URLField(_("回调地址"), max_length=500)
    state = FSMField(
        _("状态"), choices=State.choices, default=State.PENDING, protected=True, db_index=True
    )
    attempt_count = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_attempt_at = models.DateTimeField(_("最近尝试"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("事件投递")
        verbose_name_plural = _("事件投递")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event.event_type} → {self.callback}"

    @transition(field=state, source=State.PENDING, target=State.DELIVERED)
    def deliver(self, *, at):
        self.delivered_at = at

    @transition(field=state, source=State.PENDING, target=State.FAILED)
    def fail(self):
        pass

    @transition(field=state, source=State.FAILED, target=State.PENDING)
    def resend(self):
        pass


class DeliveryAttempt(models.Model):
    """One POST of an event to a callback: when, the HTTP status (if any) and the error."""

    delivery = models.ForeignKey(
        EventDelivery, verbose_name=_("投递"), on_delete=models.CASCADE, related_name="attempts"
    )
    number = models.PositiveIntegerField(_("第几次"))
    at = models.DateTimeField(_("时间"), default=clock.now)
    status_code = models.PositiveIntegerField(_("HTTP 状态码"), null=True, blank=True)
    error = models.TextField(_("错误"), blank=True)
    succeeded = models.BooleanField(_("成功"), default=False)

    class Meta:
        verbose_name = _("投递尝试")
        verbose_name_plural = _("投递尝试")
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_number_unique")
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error[:40]}"
