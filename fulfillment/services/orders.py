"""Order services: create, submit (eligibility), start, wait, proceed, fail, cancel.

`order_create` is what every interface calls (admin, TMF622 API, portal). It always
creates the order when the request is syntactically valid and, unless asked to keep it
as a draft, submits it right away: the eligibility checks then acknowledge it or reject
it with the reasons stored in `Order.rejection_reasons`. An acknowledged order starts
provisioning when its requested start has come (at once when none is given, otherwise
the periodic `orders_start_due` starts it).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, fields

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from core import clock
from core.models import User
from core.services import state_change_record
from customers.models import Contact, Enterprise
from product_lifecycle.models import ProductOffering
from product_lifecycle.selectors import offering_tariff

from ..models import CancellationRequest, Order, OrderItem, ProvisioningStep, Subscription
from ..signals import order_created, order_state_changed
from .common import dispatch
from .eligibility import normalized_ip, order_refusals

Action = OrderItem.Action
OVERRIDE_PERMISSION = "fulfillment.override_notice_period"


@dataclass
class ItemRequest:
    """One order item as an interface received it; references are kept as given.

    `offering` and `subscription` are ids (int or the API's string); an id this system
    does not know is stored in `offering_ref` / `subscription_ref` and the order is
    rejected by the eligibility checks, not refused here. `code_province` defaults to
    FULFILLMENT_PROVINCE (where this operator issues codes).
    """

    action: str
    offering: int | str | None = None
    subscription: int | str | None = None
    cmpp_version: str = ""
    interface_type: str = ""
    access_ip: str = ""
    contact_id: int | None = None
    contact_name: str = ""
    contact_phone: str = ""
    code_province: str = ""
    requested_code: str = ""
    item_id: str = ""


_TEXT_LIMITS = {
    "cmpp_version": 5,
    "interface_type": 20,
    "access_ip": 64,
    "contact_name": 60,
    "contact_phone": 30,
    "code_province": 2,
    "requested_code": 16,
    "item_id": 40,
}


def _ref_text(ref) -> str:
    if ref is None:
        return ""
    return str(getattr(ref, "pk", ref)).strip()


def _resolve(model, ref):
    """The row a reference names (an instance, an int or a string of digits), or None."""
    if ref is None or ref == "":
        return None
    if isinstance(ref, model):
        return ref
    text = str(ref).strip()
    if not text.isdigit():
        return None
    return model.objects.filter(pk=int(text)).first()


def _syntax_check(items: list[ItemRequest], dates: Iterable[dt.datetime | None]) -> None:
    """Refuse what no order can be made of (the API answers 400); business rules come later."""
    if not items:
        raise ValidationError(_("订单至少须包含一个订单项"), code="no_items")
    seen = set()
    for index, item in enumerate(items, start=1):
        if item.action not in Action.values:
            raise ValidationError(
                _("第 %(n)d 项：未知的操作“%(action)s”（可选：%(choices)s）")
                % {"n": index, "action": item.action, "choices": "、".join(Action.values)},
                code="invalid_action",
            )
        for name, limit in _TEXT_LIMITS.items():
            if len(str(getattr(item, name) or "")) > limit:
                raise ValidationError(
                    _("第 %(n)d 项：%(field)s 过长（最多 %(limit)d 个字符）")
                    % {"n": index, "field": name, "limit": limit},
                    code="too_long",
                )
        if item.item_id and item.item_id in seen:
            raise ValidationError(
                _("订单项编号“%(id)s”重复") % {"id": item.item_id}, code="duplicate_item_id"
            )
        seen.add(item.item_id)
    for value in dates:
        if value is not None and (not isinstance(value, dt.datetime) or timezone.is_naive(value)):
            raise ValidationError(_("时间须带时区"), code="naive_datetime")


def _record(order: Order, before: str, by: User | None, reason: str = "") -> None:
    state_change_record(obj=order, before=before, by=by, reason=reason)
    order_state_changed.send(sender=Order, order=order, before=before, by=by)


def _build_items(order: Order, items: list[ItemRequest]) -> None:
    used = {item.item_id for item in items if item.item_id}
    counter = 0
    for request in items:
        item_id = request.item_id
        while not item_id:
            counter += 1
            if str(counter) not in used:
                item_id = str(counter)
        contact = None
        if request.contact_id:
            contact = Contact.objects.filter(pk=request.contact_id).first()
        OrderItem.objects.create(
            order=order,
            item_id=item_id,
            action=request.action,
            offering=_resolve(ProductOffering, request.offering),
            offering_ref=_ref_text(request.offering),
            subscription=_resolve(Subscription, request.subscription),
            subscription_ref=_ref_text(request.subscription),
            cmpp_version=(request.cmpp_version or "").strip(),
            interface_type=(request.interface_type or "").strip(),
            access_ip=(request.access_ip or "").strip(),
            contact=contact,
            contact_name=(request.contact_name or (contact.name if contact else "")).strip(),
            contact_phone=(request.contact_phone or (contact.mobile if contact else "")).strip(),
            code_province=request.code_province or settings.FULFILLMENT_PROVINCE,
            requested_code=(request.requested_code or "").strip(),
        )


def _as_requests(items) -> list[ItemRequest]:
    names = {f.name for f in fields(ItemRequest)}
    requests = []
    for item in items or []:
        if isinstance(item, ItemRequest):
            requests.append(item)
        elif isinstance(item, dict):
            unknown = set(item) - names
            if unknown:
                raise ValidationError(
                    _("未知的订单项字段：%(f)s") % {"f": ", ".join(sorted(unknown))}
                )
            requests.append(ItemRequest(**item))
        else:
            raise ValidationError(_("订单项格式错误"))
    return requests


def order_create(
    *,
    by: User | None,
    items: list[ItemRequest | dict],
    enterprise: int | str | Enterprise | None = None,
    requested_start_at: dt.datetime | None = None,
    requested_completion_at: dt.datetime | None = None,
    description: str = "",
    external_id: str = "",
    priority: str = "",
    category: str = "",
    channel: str = Order.Channel.ADMIN,
    notice_override_reason: str = "",
    extra: dict | None = None,
    submit: bool = True,
    enterprises: QuerySet[Enterprise] | None = None,
) -> Order:
    """Create an order and (unless `submit=False`) submit it at once.

    `enterprises`, when given, are the enterprises the caller may order for (an
    interface passes the caller's scope): a reference to any other is kept as given but
    treated as unknown, so the order is rejected without revealing that it exists.

    Raises ValidationError only for requests no order can be made of (no items, an
    unknown action, a naive date-time, text too long); PermissionDenied when a notice
    override is given by someone without `fulfillment.override_notice_period`.
    Everything else (unknown offering or enterprise, rules of the agreement) is decided by
    the eligibility checks: the returned order is then acknowledged or rejected.
    """
    requests = _as_requests(items)
    _syntax_check(requests, (requested_start_at, requested_completion_at))
    if notice_override_reason.strip() and not (by and by.has_perm(OVERRIDE_PERMISSION)):
        raise PermissionDenied(_("只有部门负责人可以特批变更提前期（第11条）"))
    customer = _resolve(Enterprise, enterprise)
    if customer is not None and enterprises is not None:
        customer = enterprises.filter(pk=customer.pk).first()
    with transaction.atomic():
        order = Order.objects.create(
            enterprise=customer,
            enterprise_ref=_ref_text(enterprise),
            channel=channel,
            order_date=clock.now(),
            requested_start_at=requested_start_at,
            requested_completion_at=requested_completion_at,
            description=description,
            external_id=external_id[:100],
            priority=priority[:10],
            category=category[:60],
            extra=extra or {},
            created_by=by if by is not None and by.is_authenticated else None,
        )
        if notice_override_reason.strip():
            order.notice_override_by = by
            order.notice_override_reason = notice_override_reason.strip()
            order.notice_override_at = clock.now()
            order.save(
                update_fields=[
                    "notice_override_by",
                    "notice_override_reason",
                    "notice_override_at",
                    "updated_at",
                ]
            )
        _build_items(order, requests)
        state_change_record(obj=order, before="", by=by, reason=_("创建订单"))
        order_created.send(sender=Order, order=order, by=by)
    if submit:
        order = order_submit(order_id=order.pk, by=by)
    return order


@transaction.atomic
def order_draft_update(
    *, order_id: int, by: User | None, items: list[ItemRequest | dict] | None = None, **changes
) -> Order:
    """Change a draft: its requested dates and description, and (when given) its items."""
    allowed = {"requested_start_at", "requested_completion_at", "description", "enterprise"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(_("不可修改的字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.state != Order.State.DRAFT:
        raise ValidationError(_("只有草稿订单可以修改"))
    requests = _as_requests(items) if items is not None else None
    _syntax_check(
        requests if requests is not None else [ItemRequest(action=Action.ADD)],
        (changes.get("requested_start_at"), changes.get("requested_completion_at")),
    )
    for name, value in changes.items():
        if name == "enterprise":
            order.enterprise = _resolve(Enterprise, value)
            order.enterprise_ref = _ref_text(value)
        else:
            setattr(order, name, value)
    order.save()
    if requests is not None:
        order.items.all().delete()
        _build_items(order, requests)
    return order


@transaction.atomic
def order_override_notice_period(*, order_id: int, by: User, reason: str) -> Order:
    """A department head lets a draft change take effect with less than a month's notice
    (第11条); the reason is recorded on the order and on its supplementary agreement."""
    if not by.has_perm(OVERRIDE_PERMISSION):
        raise PermissionDenied(_("只有部门负责人可以特批变更提前期（第11条）"))
    if not reason.strip():
        raise ValidationError(_("特批须说明理由"))
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.state != Order.State.DRAFT:
        raise ValidationError(_("只能在提交前特批"))
    order.notice_override_by = by
    order.notice_override_reason = reason.strip()
    order.notice_override_at = clock.now()
    order.save()
    state_change_record(
        obj=order, before=order.state, by=by, reason=_("第11条特批：%(r)s") % {"r": reason}
    )
    return order


@transaction.atomic
def order_submit(*, order_id: int, by: User | None) -> Order:
    """Run the eligibility checks on a draft: acknowledge it or reject it with the reasons.

    On acknowledgement the access IPs are normalised, the contact is copied from the
    enterprise's file when one was chosen, and each item's tariff is taken from the
    catalog as it is now (the price sold). Provisioning starts after commit when the
    requested start has come.
    """
    order = (
        Order.objects.select_for_update(of=("self",)).select_related("enterprise").get(pk=order_id)
    )
    refusals = order_refusals(order)
    before = order.state
    now = clock.now()
    if refusals:
        order.reject(at=now, reasons=[refusal.as_dict() for refusal in refusals])
        order.save()
        for item in order.items.all():
            item.reject()
            item.save()
        _record(order, before, by, order.rejection_text)
        return order
    order.acknowledge(at=now)
    order.save()
    for item in order.items.select_related("offering", "contact"):
        if item.access_ip:
            item.access_ip = normalized_ip(item.access_ip) or item.access_ip
        if item.contact and not item.contact_name:
            item.contact_name = item.contact.name
            item.contact_phone = item.contact_phone or item.contact.mobile
        if item.offering_id and item.action in (Action.ADD, Action.MODIFY):
            item.tariff_store(offering_tariff(item.offering_id, at=now), at=now)
        item.save()
    _record(order, before, by, _("资格审核通过"))
    if order.requested_start_at is None or order.requested_start_at <= now:
        from ..tasks import order_start_task

        dispatch(order_start_task, order.pk)
    return order


@transaction.atomic
def order_start(*, order_id: int, by: User | None = None) -> Order:
    """Start provisioning an acknowledged order whose requested start has come.

    Does nothing for an order in any other state or not yet due, so the periodic task and
    a duplicate message can call it safely.
    """
    from .provisioning import item_complete, item_plan_steps, item_schedule_next

    order = Order.objects.select_for_update().get(pk=order_id)
    now = clock.now()
    if order.state != Order.State.ACKNOWLEDGED:
        return order
    if order.requested_start_at is not None and order.requested_start_at > now:
        return order
    before = order.state
    order.start(at=now)
    order.save()
    _record(order, before, by, _("开始开通"))
    for item in order.items.all():
        item.start()
        item.save()
        item_plan_steps(item)
        if item_schedule_next(item) is None:  # nothing to do (noChange)
            item_complete(item)
    return Order.objects.get(pk=order.pk)


def orders_start_due(*, now: dt.datetime | None = None, stalled_minutes: int = 10) -> int:
    """Start every acknowledged order that is due, and nudge stalled ones; returns how many.

    An order in progress whose next step was queued more than `stalled_minutes` ago and
    never ran (a lost message) is queued again; steps are idempotent, so a duplicate is
    harmless.
    """
    from ..tasks import order_start_task
    from .provisioning import item_schedule_next

    now = now or clock.now()
    due = list(
        Order.objects.filter(state=Order.State.ACKNOWLEDGED)
        .filter(Q(requested_start_at__isnull=True) | Q(requested_start_at__lte=now))
        .values_list("pk", flat=True)
    )
    for order_id in due:
        order_start_task.delay(order_id)
    stalled = (
        ProvisioningStep.objects.filter(
            state=ProvisioningStep.State.PENDING,
            item__order__state=Order.State.IN_PROGRESS,
            queued_at__lt=now - dt.timedelta(minutes=stalled_minutes),
        )
        .values_list("item_id", flat=True)
        .distinct()
    )
    for item_id in stalled:
        with transaction.atomic():
            item_schedule_next(OrderItem.objects.get(pk=item_id))
    return len(due)


def _transition(order_id: int, by: User | None, note: str, name: str, **kwargs) -> Order:
    order = Order.objects.select_for_update().get(pk=order_id)
    before = order.state
    getattr(order, name)(**kwargs)
    order.save()
    _record(order, before, by, note)
    return order


@transaction.atomic
def order_pend(*, order_id: int, by: User | None, reason: str) -> Order:
    """Wait for information from the enterprise (pending); provisioning pauses."""
    if not reason.strip():
        raise ValidationError(_("请说明需要客户补充的内容"))
    return _transition(order_id, by, reason, "pend")


@transaction.atomic
def order_hold(*, order_id: int, by: User | None, reason: str) -> Order:
    """Hold the order on our side (held); provisioning pauses."""
    if not reason.strip():
        raise ValidationError(_("请说明挂起原因"))
    return _transition(order_id, by, reason, "hold")


@transaction.atomic
def order_proceed(*, order_id: int, by: User | None, reason: str = "") -> Order:
    """Take a pending or held order up again: provisioning continues where it stopped
    (steps whose reservations lapsed meanwhile run again)."""
    from ..tasks import order_start_task
    from .provisioning import item_schedule_next

    order = _transition(order_id, by, reason, "proceed")
    if order.state == Order.State.IN_PROGRESS:
        for item in order.items.filter(state=OrderItem.State.IN_PROGRESS):
            item_schedule_next(item)
    else:
        dispatch(order_start_task, order.pk)
    return order


@transaction.atomic
def order_fail(*, order_id: int, by: User | None, reason: str) -> Order:
    """Give an order up (e.g. stuck, or the enterprise never answered): every unfinished
    item fails and releases what it had reserved. Completed items stay completed, so the
    order ends partial when some were done."""
    from .provisioning import item_fail, order_settle

    if not reason.strip():
        raise ValidationError(_("请说明失败原因"))
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.state not in (Order.State.IN_PROGRESS, Order.State.PENDING, Order.State.HELD):
        raise TransitionNotAllowed(
            _("订单当前为“%(state)s”，不能置为失败") % {"state": order.get_state_display()}
        )
    for item in order.items.filter(
        state__in=[OrderItem.State.ACKNOWLEDGED, OrderItem.State.IN_PROGRESS]
    ):
        item_fail(item, error=reason, by=by, settle=False)
    return order_settle(order.pk, by=by, reason=reason)


@transaction.atomic
def order_abandon(*, order_id: int, by: User | None, reason: str = "") -> Order:
    """Discard a draft that will not be submitted."""
    order = _transition(order_id, by, reason, "abandon", at=clock.now(), reason=reason)
    for item in order.items.all():
        item.cancel(at=clock.now())
        item.save()
    return order


CANCELLABLE = (
    Order.State.ACKNOWLEDGED,
    Order.State.IN_PROGRESS,
    Order.State.PENDING,
    Order.State.HELD,
)


@transaction.atomic
def order_cancel_request(
    *,
    order_id: int,
    by: User | None,
    reason: str = "",
    requested_cancellation_at: dt.datetime | None = None,
) -> CancellationRequest:
    """Ask to cancel an order (TMF622 cancelProductOrder) and assess it at once.

    Accepted when no item is completed yet: the order goes assessingCancellation →
    pendingCancellation, and a task releases its reservations and ends it cancelled.
    Refused (the request ends terminatedWithError, the order returns to the state it was
    in) when an item is already completed, since a live service is ended by a delete
    order, or when the order is already final.
    """
    order = Order.objects.select_for_update().get(pk=order_id)
    request = CancellationRequest.objects.create(
        order=order,
        order_ref=str(order.pk),
        reason=reason,
        requested_cancellation_at=requested_cancellation_at,
        requested_by=by if by is not None and by.is_authenticated else None,
        requested_at=clock.now(),
    )
    if order.state not in CANCELLABLE:
        request.refuse(
            reason=_("订单当前为“%(state)s”，不能撤销") % {"state": order.get_state_display()}
        )
        request.save()
        state_change_record(obj=request, before=CancellationRequest.State.ACKNOWLEDGED, by=by)
        return request
    before = order.state
    order.request_cancellation(reason=reason)
    order.save()
    _record(order, before, by, reason or _("申请撤单"))
    done = order.items.filter(state=OrderItem.State.COMPLETED).values_list("item_id", flat=True)
    if done:
        why = _("订单第 %(items)s 项已完成开通，不能撤单；如需停止业务请下拆机订单") % {
            "items": "、".join(done)
        }
        middle = order.state
        order.refuse_cancellation()
        order.save()
        _record(order, middle, by, why)
        request.refuse(reason=why)
        request.save()
        state_change_record(obj=request, before=CancellationRequest.State.ACKNOWLEDGED, by=by)
        if order.state == Order.State.IN_PROGRESS:
            from .provisioning import item_schedule_next

            for item in order.items.filter(state=OrderItem.State.IN_PROGRESS):
                item_schedule_next(item)
        return request
    middle = order.state
    order.accept_cancellation()
    order.save()
    _record(order, middle, by, _("同意撤单"))
    request.accept()
    request.save()
    state_change_record(obj=request, before=CancellationRequest.State.ACKNOWLEDGED, by=by)
    from ..tasks import order_cancellation_finish_task

    dispatch(order_cancellation_finish_task, order.pk)
    return request


@transaction.atomic
def order_cancel_request_unknown(
    *,
    order_ref: str,
    by: User | None,
    reason: str = "",
    requested_cancellation_at: dt.datetime | None = None,
) -> CancellationRequest:
    """Record a cancellation request naming an order this caller has no such order for.

    Kept (an interface returns what it was sent) and refused at once (terminatedWithError)
    with the same words whether the order does not exist or belongs to someone else.
    """
    request = CancellationRequest.objects.create(
        order=None,
        order_ref=str(order_ref)[:100],
        reason=reason,
        requested_cancellation_at=requested_cancellation_at,
        requested_by=by if by is not None and by.is_authenticated else None,
        requested_at=clock.now(),
    )
    request.refuse(reason=_("没有编号为“%(ref)s”的订单") % {"ref": str(order_ref)[:100]})
    request.save()
    state_change_record(obj=request, before=CancellationRequest.State.ACKNOWLEDGED, by=by)
    return request


@transaction.atomic
def order_cancellation_finish(*, order_id: int, by: User | None = None) -> Order:
    """Release what an accepted cancellation's order reserved and end it cancelled."""
    from .provisioning import item_release_resources

    order = Order.objects.select_for_update().get(pk=order_id)
    if order.state != Order.State.PENDING_CANCELLATION:
        return order
    now = clock.now()
    for item in order.items.select_for_update().exclude(
        state__in=[OrderItem.State.COMPLETED, OrderItem.State.FAILED, OrderItem.State.CANCELLED]
    ):
        item_release_resources(item, reason=_("订单撤销"), reopen=False)
        for step in item.steps.filter(state=ProvisioningStep.State.PENDING):
            step.cancel(at=now)
            step.save()
        item.cancel(at=now)
        item.save()
    before = order.state
    order.finish_cancellation(at=now)
    order.save()
    _record(order, before, by, order.cancellation_reason or _("撤单完成"))
    for request in order.cancellations.filter(state=CancellationRequest.State.IN_PROGRESS):
        request.finish(at=now)
        request.save()
        state_change_record(obj=request, before=CancellationRequest.State.IN_PROGRESS, by=by)
    return order


_DETAIL_FIELDS = {
    "description": 10_000,
    "external_id": 100,
    "priority": 10,
    "category": 60,
}


@transaction.atomic
def order_update_details(*, order_id: int, by: User | None, **changes) -> Order:
    """Change what an order says about itself, not what it does (TMF622 PATCH).

    Allowed in any state: `description`, `external_id`, `priority`, `category` and
    `extra` (what an interface keeps as given: notes, references to echo); while the
    order is open also `requested_completion_at` (a wish, not a commitment). The items,
    the enterprise and the requested start (the activation time of the written notice,
    第3条, and the basis of the one-month rule, 第11条) are fixed once submitted: cancel
    and order again.
    """
    allowed = {*_DETAIL_FIELDS, "extra", "requested_completion_at"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(_("不可修改的字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
    order = Order.objects.select_for_update().get(pk=order_id)
    for name, limit in _DETAIL_FIELDS.items():
        if name in changes:
            value = str(changes[name] or "")
            if len(value) > limit:
                raise ValidationError(
                    _("%(field)s 过长（最多 %(limit)d 个字符）") % {"field": name, "limit": limit}
                )
            setattr(order, name, value)
    if "extra" in changes:
        order.extra = changes["extra"] or {}
    if "requested_completion_at" in changes:
        value = changes["requested_completion_at"]
        if value is not None and (not isinstance(value, dt.datetime) or timezone.is_naive(value)):
            raise ValidationError(_("时间须带时区"), code="naive_datetime")
        if value != order.requested_completion_at and order.is_final:
            raise ValidationError(
                _("订单已结束（%(state)s），不能修改要求完成时间")
                % {"state": order.get_state_display()},
                code="conflict",
            )
        order.requested_completion_at = value
    order.save()
    return order


DELETABLE = (Order.State.REJECTED, Order.State.CANCELLED)


@transaction.atomic
def order_delete(*, order_id: int, by: User | None) -> None:
    """Delete an order that never did anything: rejected, or cancelled before any item
    completed (TMF622 DELETE). Anything else is a record of a service and stays; refused
    with code "conflict" (the API answers 409)."""
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.state not in DELETABLE:
        raise ValidationError(
            _("订单当前为“%(state)s”，只有已拒绝或已撤销的订单可以删除；进行中的订单请先撤单")
            % {"state": order.get_state_display()},
            code="conflict",
        )
    if order.items.filter(state=OrderItem.State.COMPLETED).exists():
        raise ValidationError(_("订单已有完成开通的订单项，不能删除"), code="conflict")
    state_change_record(obj=order, before=order.state, by=by, reason=_("删除订单"))
    try:
        order.delete()
    except ProtectedError as exc:
        raise ValidationError(_("订单仍被业务记录引用，不能删除"), code="conflict") from exc
