"""Resource inventory services: code blocks, MAS servers and ports, allocation and returns.

Allocation takes rows with `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL: concurrent
orders each lock a different free row instead of queueing on the same one, and a row
handed to one transaction is invisible to the others until it commits. On SQLite the
project opens every transaction IMMEDIATE, which serialises writers, so the same code
is safe there too.
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.db.models.functions import Length
from django.utils.translation import gettext as _

from core import clock
from core.models import User
from core.services import state_change_record

from ..models import MasPort, MasServer, Order, OrderItem, ServiceCode, ServiceCodeBlock
from ..models.inventory import MAX_DIALLED_DIGITS, SERVICE_CODE_RE
from .common import ProvisioningError

MAX_BLOCK_SIZE = 10_000


def reservation_until() -> dt.datetime:
    """When a reservation made now lapses (FULFILLMENT_RESERVATION_HOURS)."""
    return clock.now() + dt.timedelta(hours=settings.FULFILLMENT_RESERVATION_HOURS)


# --- code blocks -------------------------------------------------------------------------


def block_problems(
    *, first_code: str, last_code: str, extension_digits, province: str
) -> dict[str, list[str]]:
    """What is wrong with a block of codes before it is created, per field (empty if fine).

    Both ends are 1069 codes of the same length, the last not before the first, at most
    10,000 codes, code plus extension at most 20 digits, and no code already in the pool.
    """
    from customers.regions import Province

    errors: dict[str, list[str]] = {}
    first_code = (first_code or "").strip()
    last_code = (last_code or "").strip()
    for field, value in (("first_code", first_code), ("last_code", last_code)):
        if not SERVICE_CODE_RE.match(value):
            errors.setdefault(field, []).append(
                _("“%(value)s”不是集团客户服务代码（1069 开头，8 至 16 位数字）") % {"value": value}
            )
    if province not in Province.values:
        errors.setdefault("province", []).append(
            _("“%(value)s”不是省级行政区划代码") % {"value": province}
        )
    if not isinstance(extension_digits, int) or extension_digits < 0:
        errors.setdefault("extension_digits", []).append(_("扩展位数须为非负整数"))
    if errors:
        return errors
    if len(first_code) != len(last_code):
        errors.setdefault("last_code", []).append(_("起始代码与结束代码位数不同"))
        return errors
    if int(last_code) < int(first_code):
        errors.setdefault("last_code", []).append(_("结束代码不能小于起始代码"))
        return errors
    if int(last_code) - int(first_code) + 1 > MAX_BLOCK_SIZE:
        errors.setdefault("last_code", []).append(
            _("一个号段最多 %(n)d 个代码") % {"n": MAX_BLOCK_SIZE}
        )
    if len(first_code) + extension_digits > MAX_DIALLED_DIGITS:
        errors.setdefault("extension_digits", []).append(
            _("服务代码（%(n)d位）加扩展码不能超过20位") % {"n": len(first_code)}
        )
    overlapping = (
        ServiceCode.objects.annotate(length=Length("code"))
        .filter(length=len(first_code), code__gte=first_code, code__lte=last_code)
        .order_by("code")
        .values_list("code", flat=True)[:1]
    )
    if overlapping:
        errors.setdefault("first_code", []).append(
            _("号段与号码池中已有的代码重叠（如 %(code)s）") % {"code": overlapping[0]}
        )
    return errors


def block_generate_codes(block: ServiceCodeBlock) -> int:
    """Create the available codes of a saved block; returns how many."""
    width = len(block.first_code)
    codes = [
        ServiceCode(
            code=str(number).zfill(width),
            extension_digits=block.extension_digits,
            province=block.province,
            block=block,
        )
        for number in range(int(block.first_code), int(block.last_code) + 1)
    ]
    ServiceCode.objects.bulk_create(codes, batch_size=2000)
    return len(codes)


@transaction.atomic
def service_code_block_add(
    *,
    first_code: str,
    last_code: str,
    extension_digits: int,
    province: str,
    by: User | None,
    note: str = "",
) -> ServiceCodeBlock:
    """Add a block of codes to the pool, all available; ValidationError names the problems."""
    errors = block_problems(
        first_code=first_code,
        last_code=last_code,
        extension_digits=extension_digits,
        province=province,
    )
    if errors:
        raise ValidationError(errors)
    block = ServiceCodeBlock.objects.create(
        first_code=first_code.strip(),
        last_code=last_code.strip(),
        extension_digits=extension_digits,
        province=province,
        note=note,
        created_by=by if by is not None and by.is_authenticated else None,
    )
    block_generate_codes(block)
    return block


def service_code_blocks_import(*, dataset, by: User | None = None, dry_run: bool = False):
    """Import code blocks from a tablib Dataset, all or nothing.

    Returns the import-export Result; when it has errors or invalid rows nothing was
    written and `import_report(result)` lists them row by row.
    """
    from ..resources import ServiceCodeBlockResource

    return ServiceCodeBlockResource().import_data(
        dataset,
        dry_run=dry_run,
        use_transactions=True,
        rollback_on_validation_errors=True,
        user=by,
    )


def import_report(result) -> list[dict]:
    """One entry per problem of an import: row number (1 = first data row), field, message."""
    report = []
    for invalid in result.invalid_rows:
        for field, messages in invalid.error_dict.items():
            for message in messages:
                report.append({"row": invalid.number, "field": field, "message": str(message)})
    for row_number, errors in result.row_errors():
        for error in errors:
            report.append({"row": row_number, "field": "", "message": str(error.error)})
    for error in result.base_errors:
        report.append({"row": 0, "field": "", "message": str(error.error)})
    return sorted(report, key=lambda item: (item["row"], item["field"]))


@transaction.atomic
def service_code_retire(*, code_id: int, by: User | None, reason: str) -> ServiceCode:
    """Take an available or quarantined code out of use for good (e.g. reclaimed by the MIIT)."""
    code = ServiceCode.objects.select_for_update().get(pk=code_id)
    before = code.state
    code.retire(at=clock.now())
    code.save()
    state_change_record(obj=code, before=before, by=by, reason=reason)
    return code


# --- MAS servers and ports ------------------------------------------------------------


@transaction.atomic
def mas_server_create(
    *,
    name: str,
    location: str,
    capacity: int,
    ports: int,
    by: User | None,
    host: str = "",
    ismg_host: str = "",
    ismg_port: int | None = None,
    note: str = "",
) -> MasServer:
    """Register a MAS server with `ports` ports numbered from 1 (at most its capacity).

    The ISMG link defaults to FULFILLMENT_ISMG_HOST/PORT (the bundled simulator).
    """
    server = MasServer(
        name=name,
        location=location,
        capacity=capacity,
        host=host,
        note=note,
        ismg_host=ismg_host or settings.FULFILLMENT_ISMG_HOST,
        ismg_port=ismg_port or settings.FULFILLMENT_ISMG_PORT,
    )
    server.full_clean()
    server.save()
    mas_server_add_ports(server_id=server.pk, count=ports, by=by)
    return server


@transaction.atomic
def mas_server_add_ports(*, server_id: int, count: int, by: User | None) -> list[MasPort]:
    """Add `count` ports after the server's last one; refused beyond its capacity."""
    server = MasServer.objects.select_for_update().get(pk=server_id)
    existing = server.ports.count()
    if count < 1:
        raise ValidationError(_("端口数须至少为 1"))
    if existing + count > server.capacity:
        raise ValidationError(
            _(
                "%(server)s 容量为 %(capacity)d 个端口，已有 %(existing)d 个，"
                "不能再增加 %(count)d 个"
            )
            % {
                "server": server.name,
                "capacity": server.capacity,
                "existing": existing,
                "count": count,
            }
        )
    last = server.ports.order_by("-number").values_list("number", flat=True).first() or 0
    return MasPort.objects.bulk_create(
        MasPort(server=server, number=last + offset) for offset in range(1, count + 1)
    )


@transaction.atomic
def mas_port_retire(*, port_id: int, by: User | None, reason: str) -> MasPort:
    """Take an available port out of use (faulty hardware, server being decommissioned)."""
    port = MasPort.objects.select_for_update().get(pk=port_id)
    before = port.state
    port.retire(at=clock.now())
    port.save()
    state_change_record(obj=port, before=before, by=by, reason=reason)
    return port


# --- allocation (called by provisioning inside its transaction) -------------------------


def code_reserve_for(item: OrderItem) -> ServiceCode:
    """Reserve a code for an add item: the requested one, or the lowest free code of the
    item's province. ProvisioningError when there is none."""
    candidates = ServiceCode.objects.select_for_update(skip_locked=True).filter(
        state=ServiceCode.State.AVAILABLE, province=item.code_province
    )
    if item.requested_code:
        candidates = candidates.filter(code=item.requested_code)
    code = candidates.order_by("code").first()
    if code is None:
        if item.requested_code:
            raise ProvisioningError(
                _("指定的服务代码 %(code)s 已不空闲") % {"code": item.requested_code}
            )
        raise ProvisioningError(
            _("号码池中没有%(province)s的空闲服务代码")
            % {"province": item.get_code_province_display()}
        )
    code.reserve(until=reservation_until())
    code.save()
    state_change_record(obj=code, before=ServiceCode.State.AVAILABLE, by=None, reason=str(item))
    return code


def port_reserve_for(item: OrderItem, *, city: str) -> MasPort:
    """Reserve a free port on a server in service: a server in the enterprise's city
    first, then the server with the most free ports (spreading the load).

    The server ranking is read without locks; only the chosen port row is locked
    (SKIP LOCKED), so concurrent orders never queue on one another.
    """
    servers = (
        MasServer.objects.filter(in_service=True)
        .annotate(
            free=Count("ports", filter=Q(ports__state=MasPort.State.AVAILABLE)),
            elsewhere=Case(
                When(location=city, then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
        )
        .filter(free__gt=0)
        .order_by("elsewhere", "-free", "name")
        .values_list("pk", flat=True)
    )
    for server_id in servers:
        port = (
            MasPort.objects.select_for_update(skip_locked=True)
            .filter(server_id=server_id, state=MasPort.State.AVAILABLE)
            .order_by("number")
            .first()
        )
        if port is not None:
            break
    else:
        raise ProvisioningError(_("没有空闲的 MAS 端口"))
    port.reserve(until=reservation_until())
    port.save()
    state_change_record(obj=port, before=MasPort.State.AVAILABLE, by=None, reason=str(item))
    return port


def resource_refresh(model, pk: int | None) -> bool:
    """Whether the code or port `pk` is still reserved; if so push its expiry back.

    One conditional UPDATE: it also locks the row until the caller commits.
    """
    if pk is None:
        return False
    return bool(
        model.objects.filter(pk=pk, state=model.State.RESERVED).update(
            reserved_until=reservation_until(), updated_at=clock.now()
        )
    )


def resource_release(resource, *, reason: str) -> None:
    """Put a reserved code or port back to available (failed, cancelled or lapsed order)."""
    locked = type(resource).objects.select_for_update().get(pk=resource.pk)
    if locked.state != locked.State.RESERVED:
        return
    locked.release()
    locked.save()
    state_change_record(obj=locked, before=locked.State.RESERVED, by=None, reason=reason)


def resource_assign(resource, *, reason: str):
    """Turn the item's reservation into an assignment (at activation)."""
    locked = type(resource).objects.select_for_update().get(pk=resource.pk)
    if locked.state != locked.State.RESERVED:
        raise ProvisioningError(
            _("%(resource)s 的预留已失效（当前状态：%(state)s）")
            % {"resource": locked, "state": locked.get_state_display()}
        )
    locked.assign(at=clock.now())
    locked.save()
    state_change_record(obj=locked, before=locked.State.RESERVED, by=None, reason=reason)
    return locked


# --- periodic returns ---------------------------------------------------------------------


def reservations_release_expired(*, now: dt.datetime | None = None) -> int:
    """Release lapsed reservations; returns how many codes and ports were released.

    A reservation lapses when its order waits (pending, held) or stopped without
    cleaning up; an order being provisioned right now keeps its reservations. The
    item of a waiting order starts its resource steps over when it proceeds.
    """
    from .provisioning import item_release_resources

    now = now or clock.now()
    released = 0
    live_items = OrderItem.objects.filter(
        state__in=[OrderItem.State.ACKNOWLEDGED, OrderItem.State.IN_PROGRESS]
    ).exclude(order__state=Order.State.IN_PROGRESS)
    item_ids = set(
        live_items.filter(
            service_code__state=ServiceCode.State.RESERVED,
            service_code__reserved_until__lt=now,
        ).values_list("pk", flat=True)
    ) | set(
        live_items.filter(
            port__state=MasPort.State.RESERVED, port__reserved_until__lt=now
        ).values_list("pk", flat=True)
    )
    for item_id in sorted(item_ids):
        with transaction.atomic():
            order_id = OrderItem.objects.values_list("order_id", flat=True).get(pk=item_id)
            order = Order.objects.select_for_update().get(pk=order_id)
            if order.state == Order.State.IN_PROGRESS:
                continue
            item = OrderItem.objects.select_for_update().get(pk=item_id)
            released += item_release_resources(item, reason=_("预留已过期"), reopen=True)
    # Reservations no open item holds (defensive: e.g. a crash between two steps).
    holding = [OrderItem.State.ACKNOWLEDGED, OrderItem.State.IN_PROGRESS]
    for model in (ServiceCode, MasPort):
        orphans = (
            model.objects.filter(state=model.State.RESERVED, reserved_until__lt=now)
            .exclude(order_items__state__in=holding)
            .values_list("pk", flat=True)
        )
        for pk in orphans:
            with transaction.atomic():
                resource_release(model.objects.get(pk=pk), reason=_("预留已过期"))
                released += 1
    return released


def quarantine_release_due(*, now: dt.datetime | None = None) -> int:
    """Return codes whose quarantine has ended to the pool; returns how many."""
    now = now or clock.now()
    count = 0
    due = ServiceCode.objects.filter(
        state=ServiceCode.State.QUARANTINED, quarantined_until__lte=now
    ).values_list("pk", flat=True)
    for pk in due:
        with transaction.atomic():
            code = ServiceCode.objects.select_for_update().get(pk=pk)
            if code.state != ServiceCode.State.QUARANTINED:
                continue
            code.reinstate()
            code.save()
            state_change_record(
                obj=code,
                before=ServiceCode.State.QUARANTINED,
                by=None,
                reason=_("冷冻期满，回收至号码池"),
            )
            count += 1
    return count
