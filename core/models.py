"""Kernel models: the user, and the uniform record of every state change."""

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

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

    Written only by `core.services.state_change_record`, which every transition service
    calls in the same transaction as the change it records.
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
