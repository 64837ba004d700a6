"""Write services of the SMS pipeline: the one way in (`sms_enqueue`) and operator notices.

Refusal policy (documented in docs/smsgw.md):

- Rules about the request as a whole (subscription not active, no approved signature,
  empty or forbidden text, too many segments, a bad scheduled time, too many numbers,
  an idempotency key reused for a different request) raise `SendRefused`, whose
  message names the rule; nothing is written except the screening evidence.
- Rules about single numbers (not a mobile number, not on the registered list, opted
  out, repeated in the request) refuse only that number: it is listed in
  `SendRequest.refused` with its rule and the others are accepted. When no number at
  all is accepted, `SendRefused` is raised with the per-number reasons in `.refused`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core import clock
from core.phone import normalize_mobile
from core.tracing import current_trace_id, new_trace_id

from .models import (
    ForbiddenTerm,
    Message,
    MessageState,
    NoticeBatch,
    OperatorAccount,
    ScreeningRefusal,
    SendRequest,
)

logger = logging.getLogger(__name__)

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SCREEN_STRIP = re.compile(r"[\s\u3000·•\.\-_*#|/\\,，。、!！?？~～]+")


class SendRefused(ValidationError):  # noqa: N818 (the name other apps code against)
    """A send refused by a rule; the message names the rule (e.g. "第4条：…").

    `code` is a stable machine-readable reason; `refused` lists per-number refusals
    ({msisdn, code, rule, reason}) when every number of a request was refused.
    """

    def __init__(self, message, code: str, refused: list[dict] | None = None):
        super().__init__(message, code=code)
        self.refused = refused or []


@dataclass(frozen=True)
class _Refusal:
    code: str
    rule: str
    reason: str


def _number_refusals() -> dict[str, _Refusal]:
    return {
        "invalid_number": _Refusal("invalid_number", "号码格式", _("不是有效的中国大陆手机号码")),
        "not_registered": _Refusal(
            "not_registered", "第4条", _("第4条：号码不在本企业的注册客户名单中")
        ),
        "opted_out": _Refusal("opted_out", "第4条", _("第4条：接收人已退订本企业短信")),
        "duplicate": _Refusal("duplicate", "重复号码", _("同一请求中号码重复，只发送一次")),
    }


# ----------------------------------------------------------------------------- helpers


def _fast_normalize(raw: str) -> str:
    """normalize_mobile with a fast path for numbers already in 11-digit form."""
    text = str(raw or "").strip()
    if _MOBILE.match(text):
        return text
    return normalize_mobile(text)


def _split_count(content: str) -> int:
    from .cmpp.text import split_text

    try:
        return len(split_text(content, 0))
    except ValueError:
        return 256


def screen_text(text: str) -> ForbiddenTerm | None:
    """The first active forbidden term found in `text` (ignoring spacing and punctuation
    inserted between characters to dodge the filter), or None."""
    plain = text.lower()
    squeezed = _SCREEN_STRIP.sub("", plain)
    for term in ForbiddenTerm.objects.filter(is_active=True).only("id", "term", "category"):
        needle = term.term.lower()
        if needle in plain or _SCREEN_STRIP.sub("", needle) in squeezed:
            return term
    return None


def _record_screening_refusal(
    *, term: ForbiddenTerm, enterprise_id: int, subscription_id, channel, text, count, by
) -> None:
    """Keep the evidence of a screening refusal, committed even though the send fails."""
    with transaction.atomic():
        ScreeningRefusal.objects.create(
            enterprise_id=enterprise_id,
            subscription_id=subscription_id,
            term=term,
            term_text=term.term,
            category=term.category,
            channel=channel,
            text=text,
            recipient_count=count,
            by=by if getattr(by, "is_authenticated", False) else None,
        )


def _check_text(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise SendRefused(_("短信内容不能为空"), code="empty_text")
    return body


def _with_signature(body: str, signature: str) -> str:
    """The text as sent: the body with the approved signature appended (第6条第4款).

    A body that already carries the signature at either end is not signed twice."""
    if body.startswith(signature):
        body = body[len(signature) :].lstrip()
    if body.endswith(signature):
        body = body[: -len(signature)].rstrip()
    return f"{body}{signature}"


def _due_at(scheduled_at: dt.datetime | None) -> dt.datetime:
    now = clock.now()
    if scheduled_at is None:
        return now
    if scheduled_at.tzinfo is None:
        raise SendRefused(_("定时发送时间必须带时区"), code="naive_schedule")
    horizon = getattr(settings, "SMSGW_MAX_SCHEDULE_DAYS", 30)
    if scheduled_at > now + dt.timedelta(days=horizon):
        raise SendRefused(
            _("定时发送时间不能晚于%(days)d天以后") % {"days": horizon}, code="schedule_too_far"
        )
    return max(scheduled_at, now)


def _sort_recipients(
    recipients: Iterable[str], *, enterprise_id: int | None
) -> tuple[list[str], list[dict], int]:
    """Split numbers into accepted (normalised, unique) and refused rows.

    With `enterprise_id` the registered list (第4条) and opt-outs are applied; with
    None (operator notices) only the number format is checked.
    """
    from customers.models import RegisteredRecipient

    reasons = _number_refusals()
    raw = list(recipients or [])
    registered: dict[str, bool] = {}
    if enterprise_id is not None:
        registered = dict(
            RegisteredRecipient.objects.filter(enterprise_id=enterprise_id)
            .values_list("msisdn", "opted_out_at")
            .iterator(chunk_size=10000)
        )
        registered = {k: v is not None for k, v in registered.items()}
    accepted: list[str] = []
    seen: set[str] = set()
    refused: list[dict] = []

    def refuse(number: str, reason: _Refusal) -> None:
        refused.append(
            {"msisdn": number, "code": reason.code, "rule": reason.rule, "reason": reason.reason}
        )

    for item in raw:
        try:
            number = _fast_normalize(item)
        except ValidationError:
            refuse(str(item)[:32], reasons["invalid_number"])
            continue
        if number in seen:
            refuse(number, reasons["duplicate"])
            continue
        seen.add(number)
        if enterprise_id is not None:
            opted_out = registered.get(number)
            if opted_out is None:
                refuse(number, reasons["not_registered"])
                continue
            if opted_out:
                refuse(number, reasons["opted_out"])
                continue
        accepted.append(number)
    return accepted, refused, len(raw)


def _trace_id() -> str:
    """The id the messages of this call are traced under: the request's or task's, or a
    new one (a shell, a management command) so that the sender's logs still group them."""
    return current_trace_id() or new_trace_id()


def _write_outbox(request: SendRequest, numbers: list[str], due_at: dt.datetime) -> None:
    """Insert one outbox row per number: COPY on PostgreSQL (a 100,000-number campaign
    in a few seconds), bulk INSERTs elsewhere."""
    from django.db import connection

    now = clock.now()
    if connection.vendor == "postgresql":
        columns = (
            "send_request_id, enterprise_id, subscription_id, sp_id, msisdn, state, "
            "segments_total, created_at, due_at, lease_owner, attempts, error"
        )
        table = Message._meta.db_table
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for number in numbers:
                copy.write_row(
                    (
                        request.pk,
                        request.enterprise_id,
                        request.subscription_id,
                        request.sp_id,
                        number,
                        MessageState.QUEUED,
                        request.segments_per_message,
                        now,
                        due_at,
                        "",
                        0,
                        "",
                    )
                )
        return
    batch = 5000
    for start in range(0, len(numbers), batch):
        Message.objects.bulk_create(
            [
                Message(
                    send_request=request,
                    enterprise_id=request.enterprise_id,
                    subscription_id=request.subscription_id,
                    sp_id=request.sp_id,
                    msisdn=number,
                    segments_total=request.segments_per_message,
                    created_at=now,
                    due_at=due_at,
                )
                for number in numbers[start : start + batch]
            ],
            batch_size=batch,
        )


# ----------------------------------------------------------------------------- enqueue


def sms_enqueue(
    *,
    subscription_id: int,
    recipients: list[str],
    text: str,
    by=None,
    scheduled_at: dt.datetime | None = None,
    channel: str = SendRequest.Channel.PORTAL,
    idempotency_key: str | None = None,
    extension: str = "",
    max_recipients: int | None = None,
) -> SendRequest:
    """Accept a message for a list of recipients: the only way into the outbox.

    Refuses (SendRefused naming the rule) unless the subscription is active and its
    CMPP account usable, the text passes content screening (the refusal is recorded
    with the term), the enterprise has an approved signature (第6条第4款, appended to
    the text) and the segmented text fits `SMSGW_MAX_SEGMENTS`. Numbers not on the
    enterprise's registered list or opted out (第4条) are refused one by one (see the
    module docstring). Accepted numbers become outbox rows in one transaction, due at
    `scheduled_at` (or now). A repeated `idempotency_key` of the same enterprise returns
    the first request instead of sending again. `extension` is appended to the
    service code as the sender number, so replies route to it.
    """
    from customers.selectors import approved_signature
    from fulfillment.models import CmppAccount, Subscription

    body = _check_text(text)
    try:
        subscription = Subscription.objects.select_related("enterprise", "account").get(
            pk=subscription_id
        )
    except Subscription.DoesNotExist as exc:
        raise SendRefused(_("业务实例不存在"), code="no_subscription") from exc
    enterprise_id = subscription.enterprise_id
    if idempotency_key:
        existing = _idempotent_replay(enterprise_id, idempotency_key, subscription_id, body)
        if existing is not None:
            return existing
    if subscription.state != Subscription.State.ACTIVE:
        raise SendRefused(
            _("业务实例未处于在用状态（当前：%(state)s），不能发送")
            % {"state": subscription.get_state_display()},
            code="subscription_not_active",
        )
    account = getattr(subscription, "account", None)
    if account is None or account.state != CmppAccount.State.ACTIVE:
        raise SendRefused(
            _("该业务的 CMPP 账号未开通或已暂停，不能发送"), code="account_not_active"
        )
    limit = max_recipients or getattr(settings, "SMSGW_MAX_RECIPIENTS", 200_000)
    recipients = list(recipients or [])
    if len(recipients) > limit:
        raise SendRefused(
            _("一次最多提交%(limit)d个号码") % {"limit": limit}, code="too_many_recipients"
        )
    if extension and (
        not extension.isdigit()
        or len(account.service_code) + len(extension) > 21
        or len(extension) > account.extension_digits
    ):
        raise SendRefused(_("扩展码超出本业务的扩展位数"), code="bad_extension")
    term = screen_text(body)
    if term is not None:
        _record_screening_refusal(
            term=term,
            enterprise_id=enterprise_id,
            subscription_id=subscription_id,
            channel=channel,
            text=body,
            count=len(recipients),
            by=by,
        )
        raise SendRefused(
            _("第5条（九不准）：短信内容含禁止发送的内容“%(term)s”（%(category)s）")
            % {"term": term.term, "category": term.get_category_display()},
            code="forbidden_content",
        )
    signature = approved_signature(enterprise_id)
    if signature is None:
        raise SendRefused(
            _("第6条第4款：本企业没有审核通过的短信签名，不能发送"), code="no_signature"
        )
    content = _with_signature(body, signature.text)
    segments = _split_count(content)
    max_segments = getattr(settings, "SMSGW_MAX_SEGMENTS", 10)
    if segments > max_segments:
        raise SendRefused(
            _("短信过长：需拆分为%(n)d条，最多%(max)d条") % {"n": segments, "max": max_segments},
            code="text_too_long",
        )
    due_at = _due_at(scheduled_at)
    accepted, refused, requested = _sort_recipients(recipients, enterprise_id=enterprise_id)
    if not accepted:
        first = refused[0]["reason"] if refused else _("没有接收号码")
        raise SendRefused(
            _("没有可发送的号码：%(reason)s") % {"reason": first},
            code="no_recipient",
            refused=refused,
        )
    try:
        with transaction.atomic():
            request = SendRequest.objects.create(
                kind=SendRequest.Kind.ENTERPRISE,
                channel=channel,
                enterprise_id=enterprise_id,
                subscription=subscription,
                sp_id=account.sp_id,
                src_id=f"{account.service_code}{extension}",
                body=body,
                signature=signature.text,
                content=content,
                segments_per_message=segments,
                scheduled_at=scheduled_at,
                idempotency_key=idempotency_key or None,
                requested_count=requested,
                accepted_count=len(accepted),
                refused_count=len(refused),
                refused=refused,
                created_by=by if getattr(by, "is_authenticated", False) else None,
                trace_id=_trace_id(),
            )
            _write_outbox(request, accepted, due_at)
    except IntegrityError:
        if idempotency_key:
            existing = _idempotent_replay(enterprise_id, idempotency_key, subscription_id, body)
            if existing is not None:
                return existing
        raise
    logger.info(
        "sms request %s: %s accepted, %s refused, %s segments each",
        request.pk,
        len(accepted),
        len(refused),
        segments,
    )
    return request


def _idempotent_replay(
    enterprise_id: int, key: str, subscription_id: int, body: str
) -> SendRequest | None:
    existing = SendRequest.objects.filter(enterprise_id=enterprise_id, idempotency_key=key).first()
    if existing is None:
        return None
    if existing.subscription_id != subscription_id or existing.body != body:
        raise SendRefused(
            _("幂等键“%(key)s”已用于另一条不同的发送请求") % {"key": key},
            code="idempotency_conflict",
        )
    return existing


def sms_enqueue_campaign(
    *,
    subscription_id: int,
    text: str,
    by=None,
    recipients: list[str] | None = None,
    group_label: str | None = None,
    scheduled_at: dt.datetime | None = None,
    idempotency_key: str | None = None,
) -> SendRequest:
    """A bulk campaign: the given numbers, or the enterprise's whole registered list
    (optionally one `group_label`), enqueued in bulk under the same rules as
    `sms_enqueue` (opted-out numbers are left out of a list-based campaign)."""
    from customers.models import RegisteredRecipient
    from fulfillment.models import Subscription

    if recipients is None:
        enterprise_id = (
            Subscription.objects.filter(pk=subscription_id)
            .values_list("enterprise_id", flat=True)
            .first()
        )
        listed = RegisteredRecipient.objects.filter(
            enterprise_id=enterprise_id, opted_out_at__isnull=True
        )
        if group_label:
            listed = listed.filter(group_label=group_label)
        recipients = list(listed.values_list("msisdn", flat=True))
    return sms_enqueue(
        subscription_id=subscription_id,
        recipients=recipients,
        text=text,
        by=by,
        scheduled_at=scheduled_at,
        channel=SendRequest.Channel.CAMPAIGN,
        idempotency_key=idempotency_key,
    )


# ----------------------------------------------------------------------------- notices


def operator_account() -> OperatorAccount:
    """The operator service account notices are sent from (SMSGW_OPERATOR_SP_ID or the
    first active one); SendRefused when none is configured."""
    accounts = OperatorAccount.objects.filter(is_active=True)
    sp_id = getattr(settings, "SMSGW_OPERATOR_SP_ID", "")
    if sp_id:
        accounts = accounts.filter(sp_id=sp_id)
    account = accounts.order_by("pk").first()
    if account is None:
        raise SendRefused(_("未配置运营商服务账号，不能发送通知"), code="no_operator_account")
    return account


def operator_notice_send(
    *,
    enterprise_id: int,
    text: str,
    topic: str,
    phone_numbers: list[str] | None = None,
    by=None,
    scheduled_at: dt.datetime | None = None,
) -> NoticeBatch:
    """Send the operator's own notice (maintenance, payment reminder) to an enterprise.

    Goes to `phone_numbers` or, by default, the mobiles of the enterprise's contacts;
    sent from the operator service account with the operator's signature, not subject
    to the enterprise's registered list or screening (the text is the operator's).
    Delivery is followed with `smsgw.selectors.notice_batch_status(batch.pk)`.
    Raises SendRefused when there is no usable number or no operator account.
    """
    from customers.models import Contact

    body = _check_text(text)
    if not (topic or "").strip():
        raise SendRefused(_("请填写通知主题"), code="no_topic")
    account = operator_account()
    if phone_numbers is None:
        phone_numbers = list(
            Contact.objects.filter(enterprise_id=enterprise_id).values_list("mobile", flat=True)
        )
    accepted, refused, requested = _sort_recipients(phone_numbers, enterprise_id=None)
    if not accepted:
        raise SendRefused(
            _("该集团客户没有可接收通知的手机号码"), code="no_recipient", refused=refused
        )
    content = _with_signature(body, account.signature)
    segments = _split_count(content)
    due_at = _due_at(scheduled_at)
    with transaction.atomic():
        request = SendRequest.objects.create(
            kind=SendRequest.Kind.NOTICE,
            channel=SendRequest.Channel.NOTICE,
            enterprise_id=enterprise_id,
            operator_account=account,
            sp_id=account.sp_id,
            src_id=account.service_code,
            body=body,
            signature=account.signature,
            content=content,
            segments_per_message=segments,
            scheduled_at=scheduled_at,
            requested_count=requested,
            accepted_count=len(accepted),
            refused_count=len(refused),
            refused=refused,
            created_by=by if getattr(by, "is_authenticated", False) else None,
            trace_id=_trace_id(),
        )
        _write_outbox(request, accepted, due_at)
        batch = NoticeBatch.objects.create(
            enterprise_id=enterprise_id, topic=topic.strip()[:60], send_request=request
        )
    return batch


# ----------------------------------------------------------------------------- terms


@transaction.atomic
def forbidden_term_add(*, term: str, category: str, note: str = "", by=None) -> ForbiddenTerm:
    """Add (or re-activate) a forbidden term to the screening list."""
    term = (term or "").strip()
    if not term:
        raise ValidationError({"term": _("请填写禁用词")})
    if category not in ForbiddenTerm.Category.values:
        raise ValidationError({"category": _("未知的类别")})
    obj, _created = ForbiddenTerm.objects.update_or_create(
        term=term, defaults={"category": category, "note": note, "is_active": True}
    )
    return obj


# ----------------------------------------------------------------------------- churn


def churn_analysis_run(*, today: dt.date | None = None) -> list:
    """The daily early-warning analysis (预警分析) over DailyUsage, for active enterprises
    with an active subscription.

    - no usage: nothing submitted on the last SMSGW_CHURN_IDLE_DAYS (5) days, for a
      subscription active at least that long;
    - volume drop: the daily average of the last SMSGW_CHURN_RECENT_DAYS (7) days fell by
      more than SMSGW_CHURN_DROP_SHARE (0.5) against the daily average of the 30 days
      before them.

    Raises (at most one live) ChurnWarning per enterprise and kind for its manager;
    returns the warnings raised now.
    """
    from decimal import Decimal

    from django.db.models import Sum

    from customers.models import ChurnWarning, Enterprise
    from customers.services import churn_warning_raise
    from fulfillment.models import Subscription

    from .models import DailyUsage

    today = today or clock.today()
    idle_days = int(settings.SMSGW_CHURN_IDLE_DAYS)
    recent_days = int(settings.SMSGW_CHURN_RECENT_DAYS)
    share = Decimal(str(settings.SMSGW_CHURN_DROP_SHARE))
    idle_start = today - dt.timedelta(days=idle_days)
    recent_start = today - dt.timedelta(days=recent_days)
    base_start = recent_start - dt.timedelta(days=30)
    subscriptions = Subscription.objects.filter(
        state=Subscription.State.ACTIVE, enterprise__status=Enterprise.Status.ACTIVE
    ).values_list("id", "enterprise_id", "activated_at")
    by_enterprise: dict[int, list[int]] = {}
    oldest: dict[int, dt.datetime] = {}
    for sub_id, enterprise_id, activated_at in subscriptions:
        by_enterprise.setdefault(enterprise_id, []).append(sub_id)
        oldest[enterprise_id] = min(oldest.get(enterprise_id, activated_at), activated_at)

    def total(sub_ids, start, end):
        return (
            DailyUsage.objects.filter(
                subscription_id__in=sub_ids, day__gte=start, day__lt=end
            ).aggregate(n=Sum("submitted_segments"))["n"]
            or 0
        )

    raised = []
    for enterprise_id, sub_ids in by_enterprise.items():
        age_days = (today - timezone_local_date(oldest[enterprise_id])).days
        if age_days >= idle_days and total(sub_ids, idle_start, today) == 0:
            warning, new = churn_warning_raise(
                enterprise_id=enterprise_id,
                kind=ChurnWarning.Kind.NO_USAGE,
                detail=_("连续%(days)d天（%(start)s 至 %(end)s）没有发送短信")
                % {
                    "days": idle_days,
                    "start": idle_start,
                    "end": today - dt.timedelta(days=1),
                },
            )
            if new:
                raised.append(warning)
            continue
        if age_days < recent_days + 30:
            continue
        base = Decimal(total(sub_ids, base_start, recent_start)) / 30
        recent = Decimal(total(sub_ids, recent_start, today)) / recent_days
        if base > 0 and recent < base * (1 - share):
            warning, new = churn_warning_raise(
                enterprise_id=enterprise_id,
                kind=ChurnWarning.Kind.VOLUME_DROP,
                detail=_(
                    "近%(recent)d天日均发送%(now).0f条，较此前30天日均%(before).0f条下降%(pct).0f%%"
                )
                % {
                    "recent": recent_days,
                    "now": recent,
                    "before": base,
                    "pct": (1 - recent / base) * 100,
                },
            )
            if new:
                raised.append(warning)
    return raised


def timezone_local_date(at: dt.datetime) -> dt.date:
    from django.utils import timezone

    return timezone.localtime(at).date()
