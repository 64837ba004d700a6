"""Provisioning: the recorded steps of each order item, run one at a time by Celery.

An add item runs reserve_code → reserve_port → create_account → activate; modify,
suspend, resume and delete items run one step each. `provisioning_step_run` is what the
task calls. It locks the order, then the step, and:

- does nothing when the step already succeeded (a duplicate or retried message), when
  the order is not in progress (pending, held, being cancelled) or when an earlier step
  of the item has not succeeded;
- otherwise runs the step inside a savepoint and records the attempt: success queues
  the next step (or completes the item and settles the order); a ProvisioningError
  fails the step for good, releases what the item reserved and settles the order; a
  transient error (TransientProvisioningError, a database OperationalError) records the
  error and raises StepRetryError so the task retries with back-off, up to
  FULFILLMENT_STEP_MAX_RETRIES times, after which `provisioning_step_give_up` fails it.
"""

import secrets
import string
import time

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import clock, crypto
from core.models import User
from core.services import state_change_record

from ..models import (
    CmppAccount,
    MasPort,
    Order,
    OrderItem,
    ProvisioningStep,
    ServiceCode,
    Subscription,
)
from ..signals import order_state_changed, subscription_state_changed
from .common import (
    SEQUENCE_SP_ID,
    ProvisioningError,
    StepRetryError,
    TransientProvisioningError,
    dispatch,
    sequence_next,
)
from .contracts import contract_create_for, supplementary_agreement_record
from .eligibility import change_list
from .inventory import (
    code_reserve_for,
    port_reserve_for,
    resource_assign,
    resource_refresh,
    resource_release,
)

Action = OrderItem.Action
Kind = ProvisioningStep.Kind

STEP_PLANS = {
    Action.ADD: (Kind.RESERVE_CODE, Kind.RESERVE_PORT, Kind.CREATE_ACCOUNT, Kind.ACTIVATE),
    Action.MODIFY: (Kind.APPLY_CHANGE,),
    Action.SUSPEND: (Kind.SUSPEND,),
    Action.RESUME: (Kind.RESUME,),
    Action.DELETE: (Kind.TERMINATE,),
    Action.NO_CHANGE: (),
}
RESOURCE_STEPS = (Kind.RESERVE_CODE, Kind.RESERVE_PORT, Kind.CREATE_ACCOUNT)
SECRET_ALPHABET = "".join(ch for ch in string.ascii_letters + string.digits if ch not in "0O1lI")
SECRET_LENGTH = 16
MAX_SP_ID = 999_999


def generate_secret() -> str:
    """A new CMPP shared secret: 16 letters and digits, no look-alike characters."""
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


# --- planning and scheduling ------------------------------------------------------------


def item_plan_steps(item: OrderItem) -> None:
    """Create the item's steps (once)."""
    if item.steps.exists():
        return
    ProvisioningStep.objects.bulk_create(
        ProvisioningStep(item=item, kind=kind, position=position)
        for position, kind in enumerate(STEP_PLANS[item.action], start=1)
    )


def item_schedule_next(item: OrderItem, *, queue: bool = True) -> ProvisioningStep | None:
    """Queue the item's first pending step after commit; None when none is left.

    With `queue=False` the step is only marked as queued: the caller runs it itself
    (`provisioning_steps_run`); if it never does, `orders_start_due` queues it again.
    """
    from ..tasks import provisioning_step_task

    step = item.steps.filter(state=ProvisioningStep.State.PENDING).order_by("position").first()
    if step is None:
        return None
    step.queued_at = clock.now()
    step.save(update_fields=["queued_at"])
    if queue:
        dispatch(provisioning_step_task, step.pk)
    return step


# --- running a step -----------------------------------------------------------------------


def provisioning_steps_run(*, step_id: int) -> None:
    """Run a step and then, in this process, the item's following steps while they succeed.

    What the worker calls. Each step is still its own transaction, locked and recorded
    as `provisioning_step_run` does; the next one just starts at once instead of going
    back through the broker, so an add item costs one message, not four. A transient
    failure raises StepRetryError whose `step_id` is the step to retry.
    """
    current: int | None = step_id
    while current is not None:
        try:
            step = provisioning_step_run(step_id=current, queue_next=False)
        except (StepRetryError, OperationalError) as exc:
            error = exc if isinstance(exc, StepRetryError) else StepRetryError(str(exc))
            error.step_id = current
            if error is exc:
                raise
            raise error from exc
        if step is None or step.state != ProvisioningStep.State.SUCCEEDED:
            return
        current = (
            ProvisioningStep.objects.filter(
                item_id=step.item_id,
                state=ProvisioningStep.State.PENDING,
                position__gt=step.position,
            )
            .order_by("position")
            .values_list("pk", flat=True)
            .first()
        )


def provisioning_step_run(*, step_id: int, queue_next: bool = True) -> ProvisioningStep | None:
    """Run one step if it is due (see the module docstring); returns the step.

    On success the item's next step is queued for Celery, or with `queue_next=False` left
    to the caller (`provisioning_steps_run`).
    """
    transient: Exception | None = None
    with transaction.atomic():
        order_id = (
            ProvisioningStep.objects.filter(pk=step_id)
            .values_list("item__order_id", flat=True)
            .first()
        )
        if order_id is None:
            return None
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("enterprise")
            .get(pk=order_id)
        )
        step = (
            ProvisioningStep.objects.select_for_update(of=("self",))
            .select_related("item")
            .get(pk=step_id)
        )
        item = step.item
        item.order = order  # already loaded and locked
        if (
            step.state != ProvisioningStep.State.PENDING
            or order.state != Order.State.IN_PROGRESS
            or item.state != OrderItem.State.IN_PROGRESS
        ):
            return step
        if (
            item.steps.filter(position__lt=step.position)
            .exclude(state=ProvisioningStep.State.SUCCEEDED)
            .exists()
        ):
            return step
        step.attempts += 1
        step.started_at = step.started_at or clock.now()
        started = time.perf_counter()
        try:
            with transaction.atomic():
                detail = HANDLERS[step.kind](item, order)
        except ProvisioningError as exc:
            step.fail(at=clock.now(), error=str(exc))
            step.save()
            # The handler's savepoint was rolled back: forget what it set on the item.
            item = OrderItem.objects.select_for_update().get(pk=item.pk)
            item_fail(item, error=str(exc), by=None)
            return step
        except (TransientProvisioningError, OperationalError) as exc:
            step.last_error = str(exc) or exc.__class__.__name__
            step.save(update_fields=["attempts", "started_at", "last_error"])
            transient = exc
        else:
            step.succeed(
                at=clock.now(),
                detail=detail,
                duration_ms=int((time.perf_counter() - started) * 1000),
            )
            step.save()
            if item_schedule_next(item, queue=queue_next) is None:
                item_complete(item)
    if transient is not None:
        raise StepRetryError(str(transient)) from transient
    return step


@transaction.atomic
def provisioning_step_give_up(*, step_id: int, error: str) -> ProvisioningStep:
    """Fail a step whose retries are used up; its item fails and releases its reservations."""
    order_id = ProvisioningStep.objects.values_list("item__order_id", flat=True).get(pk=step_id)
    Order.objects.select_for_update().get(pk=order_id)
    step = (
        ProvisioningStep.objects.select_for_update(of=("self",))
        .select_related("item")
        .get(pk=step_id)
    )
    if step.state != ProvisioningStep.State.PENDING:
        return step
    message = _("重试 %(n)d 次后仍失败：%(error)s") % {"n": step.attempts, "error": error}
    step.fail(at=clock.now(), error=message)
    step.save()
    if step.item.state == OrderItem.State.IN_PROGRESS:
        item_fail(step.item, error=message, by=None)
    return step


# --- item and order outcomes ------------------------------------------------------------


def item_complete(item: OrderItem) -> None:
    item.complete(at=clock.now())
    item.save()
    order_settle(item.order_id)


def item_fail(item: OrderItem, *, error: str, by: User | None, settle: bool = True) -> None:
    """Fail an item: release its reservations, cancel its remaining steps, settle the order."""
    now = clock.now()
    item_release_resources(item, reason=error, reopen=False)
    for step in item.steps.filter(state=ProvisioningStep.State.PENDING):
        step.cancel(at=now)
        step.save()
    item.fail(at=now)
    item.save()
    if settle:
        order_settle(item.order_id, by=by)


def item_release_resources(item: OrderItem, *, reason: str, reopen: bool) -> int:
    """Give back what an unfinished item holds: reserved code and port, provisioned account.

    With `reopen` the item's resource steps go back to pending (a lapsed reservation of a
    waiting order): it reserves afresh when it proceeds. Returns how many were released.
    """
    released = 0
    for field in ("service_code", "port"):
        resource = getattr(item, field)
        if resource is not None and resource.state == resource.State.RESERVED:
            resource_release(resource, reason=reason)
            setattr(item, field, None)
            released += 1
    for account in item.accounts.filter(state=CmppAccount.State.PROVISIONED):
        account.revoke()
        account.save()
        state_change_record(
            obj=account, before=CmppAccount.State.PROVISIONED, by=None, reason=reason
        )
    item.save(update_fields=["service_code", "port", "updated_at"])
    if reopen:
        for step in item.steps.filter(
            kind__in=RESOURCE_STEPS, state=ProvisioningStep.State.SUCCEEDED
        ):
            step.reopen(why=reason)
            step.save()
    return released


def order_settle(order_id: int, *, by: User | None = None, reason: str = "") -> Order:
    """End the order once every item is final: completed, partial or failed."""
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.state not in (Order.State.IN_PROGRESS, Order.State.PENDING, Order.State.HELD):
        return order
    states = list(order.items.values_list("state", flat=True))
    if any(
        state in (OrderItem.State.ACKNOWLEDGED, OrderItem.State.IN_PROGRESS) for state in states
    ):
        return order
    before = order.state
    now = clock.now()
    completed = states.count(OrderItem.State.COMPLETED)
    if completed == len(states):
        order.complete(at=now)
        reason = reason or _("全部订单项已完成")
    elif completed:
        order.complete_partially(at=now)
        reason = reason or _("部分订单项失败")
    else:
        order.fail(at=now)
        reason = reason or "；".join(
            ProvisioningStep.objects.filter(
                item__order=order, state=ProvisioningStep.State.FAILED
            ).values_list("last_error", flat=True)[:3]
        )
    order.save()
    state_change_record(obj=order, before=before, by=by, reason=reason)
    order_state_changed.send(sender=Order, order=order, before=before, by=by)
    return order


# --- the step handlers (each returns a line for the record) -------------------------------


def _reserve_code(item: OrderItem, order: Order) -> str:
    if resource_refresh(ServiceCode, item.service_code_id):
        return _("服务代码 %(code)s 已预留") % {"code": item.service_code.code}
    code = code_reserve_for(item)
    item.service_code = code
    item.save(update_fields=["service_code", "updated_at"])
    return _("预留服务代码 %(code)s（扩展 %(n)d 位）") % {
        "code": code.code,
        "n": code.extension_digits,
    }


def _reserve_port(item: OrderItem, order: Order) -> str:
    if resource_refresh(MasPort, item.port_id):
        return _("MAS 端口 %(port)s 已预留") % {"port": item.port}
    port = port_reserve_for(item, city=order.enterprise.city)
    item.port = port
    item.save(update_fields=["port", "updated_at"])
    return _("预留 MAS 端口 %(port)s") % {"port": port}


def _create_account(item: OrderItem, order: Order) -> str:
    existing = item.accounts.exclude(state=CmppAccount.State.REVOKED).first()
    if existing is not None:
        return _("CMPP 账号 %(sp)s 已创建") % {"sp": existing.sp_id}
    if not (
        resource_refresh(ServiceCode, item.service_code_id)
        and resource_refresh(MasPort, item.port_id)
    ):
        raise ProvisioningError(_("资源预留已失效，请重新下单"))
    number = sequence_next(SEQUENCE_SP_ID)
    if number > MAX_SP_ID:
        raise ProvisioningError(_("企业代码（SP_Id）已用尽"))
    server = item.port.server
    offering = item.offering
    account = CmppAccount(
        order_item=item,
        enterprise=order.enterprise,
        sp_id=f"{number:06d}",
        secret_encrypted=crypto.encrypt(generate_secret()),
        service_code=item.service_code.code,
        extension_digits=item.service_code.extension_digits,
        licensed_rate=offering.licensed_rate,
        max_links=offering.max_links,
        window_size=settings.FULFILLMENT_CMPP_WINDOW,
        cmpp_version=item.cmpp_version,
        ismg_host=server.ismg_host or settings.FULFILLMENT_ISMG_HOST,
        ismg_port=server.ismg_port or settings.FULFILLMENT_ISMG_PORT,
        access_ip=item.access_ip,
    )
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError as exc:
        raise ProvisioningError(
            _("第5条第6款：IP 地址 %(ip)s 已有其他服务代码或账号") % {"ip": item.access_ip}
        ) from exc
    state_change_record(obj=account, before="", by=None, reason=str(item))
    return _("创建 CMPP 账号：SP_Id %(sp)s，CMPP %(v)s，ISMG %(host)s:%(port)s") % {
        "sp": account.sp_id,
        "v": account.cmpp_version,
        "host": account.ismg_host,
        "port": account.ismg_port,
    }


def _activate(item: OrderItem, order: Order) -> str:
    if item.subscription_id:
        return _("业务已激活")
    reason = str(item)
    code = resource_assign(item.service_code, reason=reason)
    port = resource_assign(item.port, reason=reason)
    account = item.accounts.select_for_update().filter(state=CmppAccount.State.PROVISIONED).first()
    if account is None:
        raise ProvisioningError(_("找不到本订单项创建的 CMPP 账号"))
    offering = item.offering
    now = clock.now()
    subscription = Subscription(
        enterprise=order.enterprise,
        offering=offering,
        order=order,
        service_code=code,
        port=port,
        cmpp_version=item.cmpp_version,
        licensed_rate=offering.licensed_rate,
        max_links=offering.max_links,
        interface_type=item.interface_type,
        access_ip=item.access_ip,
        contact_name=item.contact_name,
        contact_phone=item.contact_phone,
        activated_at=now,
    )
    subscription.tariff_copy_from(item)
    subscription.save()
    account.activate(subscription=subscription)
    account.save()
    item.subscription = subscription
    item.save(update_fields=["subscription", "updated_at"])
    signed_on = timezone.localdate(order.submitted_at or order.order_date)
    contract = contract_create_for(subscription, signed_on=signed_on)
    state_change_record(
        obj=subscription,
        before="",
        by=order.created_by,
        reason=_("订单 #%(id)s 开通") % {"id": order.pk},
    )
    state_change_record(obj=account, before=CmppAccount.State.PROVISIONED, by=None, reason=reason)
    subscription_state_changed.send(
        sender=Subscription, subscription=subscription, before="", by=order.created_by
    )
    return _("业务已开通：%(code)s，合同 %(contract)s") % {
        "code": code.code,
        "contract": contract.number,
    }


def _apply_change(item: OrderItem, order: Order) -> str:
    subscription = Subscription.objects.select_for_update().get(pk=item.subscription_id)
    if not subscription.is_live:
        raise ProvisioningError(_("业务实例已终止，不能变更"))
    changes = change_list(item, subscription)
    if not changes:
        return _("无需变更")
    account = CmppAccount.objects.select_for_update().get(subscription=subscription)
    if item.offering_id and item.offering_id != subscription.offering_id:
        offering = item.offering
        for field, label in (("licensed_rate", _("许可速率")), ("max_links", _("连接数"))):
            before, after = getattr(subscription, field), getattr(offering, field)
            if before != after:
                changes.append(
                    {
                        "field": field,
                        "label": str(label),
                        "before": str(before),
                        "after": str(after),
                    }
                )
        subscription.offering = offering
        subscription.licensed_rate = account.licensed_rate = offering.licensed_rate
        subscription.max_links = account.max_links = offering.max_links
        subscription.tariff_copy_from(item)
    if item.cmpp_version:
        subscription.cmpp_version = account.cmpp_version = item.cmpp_version
    if item.access_ip:
        subscription.access_ip = account.access_ip = item.access_ip
    if item.interface_type:
        subscription.interface_type = item.interface_type
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError as exc:
        raise ProvisioningError(
            _("第5条第6款：IP 地址 %(ip)s 已有其他服务代码或账号") % {"ip": item.access_ip}
        ) from exc
    subscription.save()
    supplement = supplementary_agreement_record(
        contract=subscription.contract,
        order=order,
        changes=changes,
        effective_on=clock.today(),
    )
    return _("变更已生效，补充协议 %(number)s") % {"number": supplement.number}


def _suspend(item: OrderItem, order: Order) -> str:
    from .subscriptions import subscription_suspend

    subscription = item.subscription
    if subscription.state == Subscription.State.SUSPENDED:
        return _("业务已处于暂停状态")
    if subscription.state != Subscription.State.ACTIVE:
        raise ProvisioningError(_("业务实例已终止，不能暂停"))
    subscription_suspend(
        subscription_id=subscription.pk,
        by=order.created_by,
        reason=_("订单 #%(id)s：客户申请暂停") % {"id": order.pk},
    )
    return _("业务已暂停")


def _resume(item: OrderItem, order: Order) -> str:
    from .subscriptions import subscription_resume

    subscription = item.subscription
    if subscription.state == Subscription.State.ACTIVE:
        return _("业务已在用")
    if subscription.state != Subscription.State.SUSPENDED:
        raise ProvisioningError(_("业务实例已终止，不能恢复"))
    subscription_resume(
        subscription_id=subscription.pk,
        by=order.created_by,
        reason=_("订单 #%(id)s：客户申请恢复") % {"id": order.pk},
    )
    return _("业务已恢复")


def _terminate(item: OrderItem, order: Order) -> str:
    from ..models import Contract
    from .subscriptions import subscription_terminate

    subscription = item.subscription
    if subscription.state == Subscription.State.TERMINATED:
        return _("业务已终止")
    subscription_terminate(
        subscription_id=subscription.pk,
        by=order.created_by,
        reason=_("订单 #%(id)s：客户申请拆机") % {"id": order.pk},
        contract_reason=Contract.TerminationReason.MUTUAL_AGREEMENT,
    )
    return _("业务已终止，服务代码进入冷冻期")


HANDLERS = {
    Kind.RESERVE_CODE: _reserve_code,
    Kind.RESERVE_PORT: _reserve_port,
    Kind.CREATE_ACCOUNT: _create_account,
    Kind.ACTIVATE: _activate,
    Kind.APPLY_CHANGE: _apply_change,
    Kind.SUSPEND: _suspend,
    Kind.RESUME: _resume,
    Kind.TERMINATE: _terminate,
}
