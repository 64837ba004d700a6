"""Subscription services other apps call, and the one-time view of a CMPP secret.

billing's dunning calls `subscription_suspend` / `subscription_resume` /
`subscription_terminate`; the provisioning of suspend, resume and delete orders calls
them too. Each locks the subscription, changes it and its CMPP account together,
records the change and sends `fulfillment.signals.subscription_state_changed` inside
the transaction.
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core import clock, crypto
from core.models import User
from core.services import state_change_record

from ..models import CmppAccount, Contract, MasPort, ServiceCode, Subscription
from ..signals import subscription_state_changed

REVEAL_PERMISSION = "fulfillment.reveal_secret"


def _record(subscription: Subscription, before: str, by: User | None, reason: str) -> None:
    state_change_record(obj=subscription, before=before, by=by, reason=reason)
    subscription_state_changed.send(
        sender=Subscription, subscription=subscription, before=before, by=by
    )


def _account_transition(subscription: Subscription, name: str, reason: str) -> None:
    account = CmppAccount.objects.select_for_update().filter(subscription=subscription).first()
    if account is None:
        return
    before = account.state
    getattr(account, name)()
    account.save()
    state_change_record(obj=account, before=before, by=None, reason=reason)


@transaction.atomic
def subscription_suspend(*, subscription_id: int, by: User | None, reason: str) -> Subscription:
    """Suspend an active subscription: sending is blocked (the account is suspended) while
    billing keeps running. Raises TransitionNotAllowed unless it is active."""
    if not reason.strip():
        raise ValidationError(_("暂停须说明原因"))
    subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
    before = subscription.state
    subscription.suspend(at=clock.now(), reason=reason)
    subscription.save()
    _account_transition(subscription, "suspend", reason)
    _record(subscription, before, by, reason)
    return subscription


@transaction.atomic
def subscription_resume(*, subscription_id: int, by: User | None, reason: str = "") -> Subscription:
    """Lift a suspension: the account may send again. Raises TransitionNotAllowed unless
    the subscription is suspended."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
    before = subscription.state
    subscription.resume()
    subscription.save()
    _account_transition(subscription, "resume", reason)
    _record(subscription, before, by, reason)
    return subscription


@transaction.atomic
def subscription_terminate(
    *,
    subscription_id: int,
    by: User | None,
    reason: str,
    contract_reason: str = Contract.TerminationReason.MUTUAL_AGREEMENT,
) -> Subscription:
    """End a subscription for good.

    The account is revoked, the service code goes to quarantine for
    FULFILLMENT_QUARANTINE_DAYS (people still dial it), the MAS port is freed, and the
    contract, if still running, ends early on one of the 第18条 grounds (`contract_reason`:
    mutual agreement for an enterprise's own request, breach for dunning's termination
    for non-payment, force majeure). Raises TransitionNotAllowed when already terminated.
    """
    if contract_reason not in Contract.TerminationReason.values:
        raise ValidationError(
            _("提前终止须为第18条所列原因之一：%(choices)s")
            % {"choices": "、".join(str(label) for label in Contract.TerminationReason.labels)}
        )
    if not reason.strip():
        raise ValidationError(_("终止须说明原因"))
    subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
    before = subscription.state
    now = clock.now()
    subscription.terminate(at=now, reason=reason)
    subscription.save()
    _account_transition(subscription, "revoke", reason)

    code = ServiceCode.objects.select_for_update().get(pk=subscription.service_code_id)
    code.quarantine(until=now + dt.timedelta(days=settings.FULFILLMENT_QUARANTINE_DAYS))
    code.save()
    state_change_record(obj=code, before=ServiceCode.State.ASSIGNED, by=by, reason=reason)
    port = MasPort.objects.select_for_update().get(pk=subscription.port_id)
    port.free()
    port.save()
    state_change_record(obj=port, before=MasPort.State.ASSIGNED, by=by, reason=reason)

    contract = Contract.objects.select_for_update().filter(subscription=subscription).first()
    if contract is not None and contract.state == Contract.State.ACTIVE:
        contract.terminate(on=clock.today(), reason=contract_reason, detail=reason)
        contract.save()
        state_change_record(
            obj=contract,
            before=Contract.State.ACTIVE,
            by=by,
            reason=f"{contract.get_termination_reason_display()}：{reason}",
        )
    _record(subscription, before, by, reason)
    return subscription


@transaction.atomic
def cmpp_account_reveal_secret(*, account_id: int, by: User) -> str:
    """The account's shared secret in clear, exactly once; who saw it and when is recorded.

    Raises PermissionDenied without `fulfillment.reveal_secret`, ValidationError once it
    was shown (reset it with `cmpp_account_reset_secret` if the enterprise lost it).
    """
    if not by.has_perm(REVEAL_PERMISSION):
        raise PermissionDenied(_("无权查看共享密钥"))
    account = CmppAccount.objects.select_for_update().get(pk=account_id)
    if account.state == CmppAccount.State.REVOKED:
        raise ValidationError(_("账号已注销"))
    if account.secret_revealed_at is not None:
        raise ValidationError(
            _("共享密钥已于 %(at)s 由 %(who)s 查看，不能再次显示；如已遗失请重置密钥")
            % {
                "at": account.secret_revealed_at.strftime("%Y-%m-%d %H:%M"),
                "who": account.secret_revealed_by or "—",
            }
        )
    secret = crypto.decrypt(account.secret_encrypted)
    before = account.secret_status
    account.secret_revealed_at = clock.now()
    account.secret_revealed_by = by
    account.save(update_fields=["secret_revealed_at", "secret_revealed_by", "updated_at"])
    state_change_record(
        obj=account, before=before, by=by, reason=_("显示共享密钥"), field="secret_status"
    )
    return secret


@transaction.atomic
def cmpp_account_reset_secret(*, account_id: int, by: User, reason: str) -> CmppAccount:
    """Replace a lost or leaked shared secret; the new one can be shown once again.

    The sender reads the secret at each login, so the enterprise's application must be
    given the new secret before its next login.
    """
    from .provisioning import generate_secret

    if not by.has_perm(REVEAL_PERMISSION):
        raise PermissionDenied(_("无权重置共享密钥"))
    if not reason.strip():
        raise ValidationError(_("重置密钥须说明原因"))
    account = CmppAccount.objects.select_for_update().get(pk=account_id)
    if account.state == CmppAccount.State.REVOKED:
        raise ValidationError(_("账号已注销"))
    before = account.secret_status
    account.secret_encrypted = crypto.encrypt(generate_secret())
    account.secret_revealed_at = None
    account.secret_revealed_by = None
    account.save()
    state_change_record(
        obj=account,
        before=before,
        by=by,
        reason=_("重置共享密钥：%(r)s") % {"r": reason},
        field="secret_status",
    )
    return account
