"""Contract services: numbering, the yearly term and renewal (第17条), non-renewal notices,
early termination (第18条), supplementary agreements (第11条/第22条) and expiry warnings."""

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import clock
from core.models import User
from core.services import state_change_record

from ..models import Contract, Order, Subscription, SupplementaryAgreement
from ..models.contracts import CONTRACT_NUMBER_DIGITS, CONTRACT_PREFIX
from .common import SEQUENCE_CONTRACT, dispatch, sequence_next


def term_end(term_start: dt.date) -> dt.date:
    """The last day of a one-year term starting on `term_start` (第17条).

    2026-11-25 → 2027-11-24; a term starting on 29 February ends on 28 February.
    """
    if term_start.month == 2 and term_start.day == 29:
        return term_start + relativedelta(years=1)
    return term_start + relativedelta(years=1) - dt.timedelta(days=1)


def non_renewal_deadline(expires_on: dt.date) -> dt.date:
    """The last day a non-renewal notice counts for the term ending on `expires_on`:
    one month before expiry (第17条)."""
    return expires_on - relativedelta(months=1)


def contract_number(sequence: int) -> str:
    return f"{CONTRACT_PREFIX}{sequence:0{CONTRACT_NUMBER_DIGITS}d}"


def contract_create_for(subscription: Subscription, *, signed_on: dt.date) -> Contract:
    """The contract of a subscription being activated (inside the activation transaction).

    The number comes from a locked counter, so numbers are gapless and never shared
    even when orders are activated concurrently. The first term runs one year from the
    activation date.
    """
    starts_on = clock.today()
    contract = Contract.objects.create(
        number=contract_number(sequence_next(SEQUENCE_CONTRACT)),
        subscription=subscription,
        enterprise=subscription.enterprise,
        signed_on=min(signed_on, starts_on),
        starts_on=starts_on,
        term_start=starts_on,
        expires_on=term_end(starts_on),
    )
    state_change_record(obj=contract, before="", by=None, reason=_("业务开通，合同生效"))
    return contract


def supplementary_agreement_record(
    *, contract: Contract, order: Order | None, changes: list[dict], effective_on: dt.date
) -> SupplementaryAgreement:
    """Record a supplementary agreement (补充协议) for a change that took effect."""
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    sequence = locked.supplements.count() + 1
    summary = "；".join(f"{c['label']}：{c['before']} → {c['after']}" for c in changes)
    if order is not None and order.notice_override_at:
        summary += _("（第11条提前期由 %(who)s 特批：%(why)s）") % {
            "who": order.notice_override_by,
            "why": order.notice_override_reason,
        }
    return SupplementaryAgreement.objects.create(
        contract=locked,
        sequence=sequence,
        number=f"{locked.number}-BC{sequence:02d}",
        order=order,
        signed_on=(
            timezone.localdate(order.submitted_at)
            if order and order.submitted_at
            else clock.today()
        ),
        effective_on=effective_on,
        summary=summary,
        changes=changes,
        notice_override_by=order.notice_override_by if order is not None else None,
    )


@transaction.atomic
def contract_record_non_renewal(
    *,
    contract_id: int,
    by: User | None,
    party: str,
    note: str = "",
    noticed_on: dt.date | None = None,
) -> Contract:
    """Record a written notice not to renew (第17条); the contract then ends at expiry.

    Refused when the notice comes later than one month before expiry (the contract then
    renews; ending it earlier needs a 第18条 ground), or is dated in the future.
    """
    if party not in Contract.Party.values:
        raise ValidationError(_("请指明通知方（甲方或乙方）"))
    contract = Contract.objects.select_for_update().get(pk=contract_id)
    if contract.state != Contract.State.ACTIVE:
        raise ValidationError(_("合同已终止"))
    noticed_on = noticed_on or clock.today()
    if noticed_on > clock.today():
        raise ValidationError(_("通知日期不能晚于今天"))
    deadline = non_renewal_deadline(contract.expires_on)
    if noticed_on > deadline:
        raise ValidationError(
            _(
                "第17条：不续约须在期满前一个月书面通知；本期于 %(expires)s 期满，"
                "最迟应于 %(deadline)s 通知，合同将自动续约"
            )
            % {"expires": contract.expires_on.isoformat(), "deadline": deadline.isoformat()}
        )
    contract.non_renewal_noticed_on = noticed_on
    contract.non_renewal_party = party
    contract.non_renewal_note = note
    contract.save()
    state_change_record(
        obj=contract,
        before=contract.state,
        by=by,
        reason=_("%(party)s于 %(date)s 书面通知期满不续约%(note)s")
        % {
            "party": contract.get_non_renewal_party_display(),
            "date": noticed_on.isoformat(),
            "note": f"：{note}" if note else "",
        },
    )
    return contract


@transaction.atomic
def contract_withdraw_non_renewal(*, contract_id: int, by: User | None, reason: str) -> Contract:
    """Withdraw a non-renewal notice (both sides agree to continue); it renews again."""
    contract = Contract.objects.select_for_update().get(pk=contract_id)
    if contract.non_renewal_noticed_on is None:
        raise ValidationError(_("合同没有不续约通知"))
    contract.non_renewal_noticed_on = None
    contract.non_renewal_party = ""
    contract.non_renewal_note = ""
    contract.save()
    state_change_record(
        obj=contract,
        before=contract.state,
        by=by,
        reason=_("撤回不续约通知：%(r)s") % {"r": reason},
    )
    return contract


def contract_terminate_early(
    *, contract_id: int, by: User | None, reason: str, detail: str
) -> Contract:
    """End the agreement before its term on a 第18条 ground (mutual agreement, breach by
    the other side, force majeure); the subscription ends with it."""
    from .subscriptions import subscription_terminate

    contract = Contract.objects.get(pk=contract_id)
    if contract.state != Contract.State.ACTIVE:
        raise ValidationError(_("合同已终止"))
    subscription_terminate(
        subscription_id=contract.subscription_id, by=by, reason=detail, contract_reason=reason
    )
    contract.refresh_from_db()
    return contract


def contracts_daily_run(*, today: dt.date | None = None) -> dict[str, int]:
    """The daily contract job: renew or expire contracts past their term, warn managers.

    A contract whose term has ended renews for another year unless a non-renewal notice
    was recorded, in which case it expires and its subscription is terminated. Managers
    are warned by e-mail (and the contract shows on their worklist) once per term when
    expiry is FULFILLMENT_CONTRACT_WARNING_DAYS (45) days away or less. Running late, or
    twice, does the right thing: each step depends only on the dates.
    """
    today = today or clock.today()
    counts = {"renewed": 0, "expired": 0, "warned": 0}
    due = Contract.objects.filter(state=Contract.State.ACTIVE, expires_on__lt=today)
    for contract_id in due.values_list("pk", flat=True):
        outcome = _contract_roll_over(contract_id, today)
        if outcome:
            counts[outcome] += 1
    horizon = today + dt.timedelta(days=settings.FULFILLMENT_CONTRACT_WARNING_DAYS)
    to_warn = Contract.objects.filter(
        state=Contract.State.ACTIVE, expires_on__gte=today, expires_on__lte=horizon
    ).exclude(expiry_warned_for=F("expires_on"))
    for contract_id in to_warn.values_list("pk", flat=True):
        with transaction.atomic():
            contract = Contract.objects.select_for_update().get(pk=contract_id)
            if contract.expiry_warned_for == contract.expires_on:
                continue
            contract.expiry_warned_for = contract.expires_on
            contract.save(update_fields=["expiry_warned_for", "updated_at"])
            from ..tasks import contract_expiry_warning_task

            dispatch(contract_expiry_warning_task, contract.pk)
            counts["warned"] += 1
    return counts


@transaction.atomic
def _contract_roll_over(contract_id: int, today: dt.date) -> str | None:
    from .subscriptions import subscription_terminate

    contract = Contract.objects.select_for_update().get(pk=contract_id)
    if contract.state != Contract.State.ACTIVE or contract.expires_on >= today:
        return None
    if contract.non_renewal_noticed_on is not None:
        contract.expire()
        contract.save()
        state_change_record(
            obj=contract,
            before=Contract.State.ACTIVE,
            by=None,
            reason=_("期满不续约（第17条），于 %(date)s 终止") % {"date": contract.ended_on},
        )
        subscription = Subscription.objects.get(pk=contract.subscription_id)
        if subscription.is_live:
            subscription_terminate(
                subscription_id=subscription.pk,
                by=None,
                reason=_("合同 %(n)s 期满不续约（第17条）") % {"n": contract.number},
            )
        return "expired"
    while contract.expires_on < today:
        start = contract.expires_on + dt.timedelta(days=1)
        contract.renew(term_start=start, expires_on=term_end(start))
        state_change_record(
            obj=contract,
            before=Contract.State.ACTIVE,
            by=None,
            reason=_("自动续约一年（第17条）：%(start)s 至 %(end)s")
            % {"start": start.isoformat(), "end": contract.expires_on.isoformat()},
        )
    contract.save()
    return "renewed"


def contract_expiry_warning_send(*, contract_id: int) -> bool:
    """E-mail the enterprise's manager that the contract expires soon; False if no address."""
    contract = Contract.objects.select_related("enterprise__account_manager").get(pk=contract_id)
    manager = contract.enterprise.account_manager
    if manager is None or not manager.email:
        return False
    if contract.non_renewal_noticed_on:
        outcome = _("已于 %(date)s 收到%(party)s的不续约通知，期满后合同终止、业务停止。") % {
            "date": contract.non_renewal_noticed_on.isoformat(),
            "party": contract.get_non_renewal_party_display(),
        }
    else:
        outcome = _("如双方均未在期满前一个月书面通知不续约，合同将自动续约一年（第17条）。")
    send_mail(
        subject=_("合同即将到期：%(number)s（%(enterprise)s）")
        % {"number": contract.number, "enterprise": contract.enterprise.name},
        message=_(
            "%(manager)s：\n\n集团客户“%(enterprise)s”的合同 %(number)s "
            "本期于 %(expires)s 到期。\n%(outcome)s\n"
        )
        % {
            "manager": manager,
            "enterprise": contract.enterprise.name,
            "number": contract.number,
            "expires": contract.expires_on.isoformat(),
            "outcome": outcome,
        },
        from_email=None,
        recipient_list=[manager.email],
    )
    return True
