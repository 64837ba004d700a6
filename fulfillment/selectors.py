"""Read queries of fulfillment, for its admin and for the apps above it.

smsgw reads the CMPP accounts (`cmpp_accounts_for_sender`, `subscription_for_destination`),
billing the subscriptions and their sold tariffs (`subscriptions_active_in_period`,
`subscription_tariff`), assurance which enterprises a resource touches
(`enterprises_affected_by`), the portal an enterprise's subscriptions
(`subscriptions_of_enterprise`).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from core import clock, crypto
from core.models import User
from customers.models import Enterprise
from customers.selectors import enterprises_visible_to
from product_lifecycle.selectors import Tariff

from .models import (
    CmppAccount,
    Contract,
    MasPort,
    MasServer,
    Order,
    ServiceCode,
    Subscription,
)


def _sees_unassigned(user: User) -> bool:
    return bool(user.is_superuser or user.has_perm("customers.view_all_enterprises"))


# --- scoping for the admin ----------------------------------------------------------------


def orders_visible_to(user: User) -> QuerySet[Order]:
    """Orders of the enterprises the user may see; orders naming no known enterprise (from
    the API) to department heads and superusers, and to whoever placed them."""
    visible = Q(enterprise__in=enterprises_visible_to(user))
    if _sees_unassigned(user):
        visible |= Q(enterprise__isnull=True)
    elif user.is_authenticated:
        visible |= Q(enterprise__isnull=True, created_by=user)
    return Order.objects.filter(visible)


def subscriptions_visible_to(user: User) -> QuerySet[Subscription]:
    return Subscription.objects.filter(enterprise__in=enterprises_visible_to(user))


def contracts_visible_to(user: User) -> QuerySet[Contract]:
    return Contract.objects.filter(enterprise__in=enterprises_visible_to(user))


# --- for the sender (smsgw) ---------------------------------------------------------------


@dataclass(frozen=True)
class CmppAccountConfig:
    """Everything the sender needs to log in and send for one subscription.

    `shared_secret` is decrypted: keep it in memory only, never log it.
    """

    account_id: int
    subscription_id: int
    enterprise_id: int
    sp_id: str
    shared_secret: str
    service_code: str
    extension_digits: int
    cmpp_version: str
    licensed_rate: int
    max_links: int
    window_size: int
    ismg_host: str
    ismg_port: int
    access_ip: str
    state: str

    def __repr__(self) -> str:  # keep the secret out of logs and tracebacks
        return f"CmppAccountConfig(sp_id={self.sp_id!r}, service_code={self.service_code!r})"


def _config(account: CmppAccount) -> CmppAccountConfig:
    return CmppAccountConfig(
        account_id=account.pk,
        subscription_id=account.subscription_id,
        enterprise_id=account.enterprise_id,
        sp_id=account.sp_id,
        shared_secret=crypto.decrypt(account.secret_encrypted),
        service_code=account.service_code,
        extension_digits=account.extension_digits,
        cmpp_version=account.cmpp_version,
        licensed_rate=account.licensed_rate,
        max_links=account.max_links,
        window_size=account.window_size,
        ismg_host=account.ismg_host,
        ismg_port=account.ismg_port,
        access_ip=account.access_ip,
        state=account.state,
    )


def cmpp_accounts_for_sender(*, include_suspended: bool = False) -> list[CmppAccountConfig]:
    """The accounts the sender should keep links for, with their secrets decrypted.

    Active accounts only by default: a suspended subscription must not send (第14条
    dunning, or the enterprise's own request); pass `include_suspended` to keep links up
    for delivery reports and replies.
    """
    states = [CmppAccount.State.ACTIVE]
    if include_suspended:
        states.append(CmppAccount.State.SUSPENDED)
    accounts = CmppAccount.objects.filter(state__in=states, subscription__isnull=False).order_by(
        "sp_id"
    )
    return [_config(account) for account in accounts]


def cmpp_account_config(*, subscription_id: int) -> CmppAccountConfig | None:
    """The account of one subscription (any state but revoked), or None."""
    account = (
        CmppAccount.objects.exclude(state=CmppAccount.State.REVOKED)
        .filter(subscription_id=subscription_id)
        .first()
    )
    return _config(account) if account else None


def subscription_for_destination(dest_id: str) -> Subscription | None:
    """The live subscription whose service code starts the dialled number `dest_id`
    (service code + extension), for routing replies (MO); the longest code wins."""
    digits = "".join(ch for ch in dest_id or "" if ch.isdigit())
    prefixes = [digits[:length] for length in range(len(digits), 7, -1)]
    if not prefixes:
        return None
    live = Subscription.objects.filter(
        state__in=Subscription.LIVE_STATES, service_code__code__in=prefixes
    ).select_related("service_code", "enterprise")
    return max(live, key=lambda s: len(s.service_code.code), default=None)


# --- for billing and the portal -----------------------------------------------------------


def subscriptions_of_enterprise(
    enterprise_id: int, *, states: Iterable[str] | None = None
) -> QuerySet[Subscription]:
    """An enterprise's subscriptions (all states unless `states` is given), newest first."""
    queryset = Subscription.objects.filter(enterprise_id=enterprise_id)
    if states is not None:
        queryset = queryset.filter(state__in=list(states))
    return queryset.select_related("service_code", "port__server", "offering", "contract")


def subscriptions_active_in_period(start: dt.date, end: dt.date) -> QuerySet[Subscription]:
    """Subscriptions that were live (active or suspended: billing keeps running while
    suspended) on at least one day from `start` to `end` inclusive, local dates."""
    tz = timezone.get_default_timezone()
    period_start = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    period_end = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return (
        Subscription.objects.filter(activated_at__lt=period_end)
        .filter(Q(terminated_at__isnull=True) | Q(terminated_at__gte=period_start))
        .select_related("enterprise", "offering", "service_code")
    )


def subscription_tariff(subscription: Subscription) -> Tariff:
    """The tariff sold with the subscription (never the catalog's current prices)."""
    return subscription.tariff


# --- for assurance ------------------------------------------------------------------------


def subscriptions_affected_by(
    *,
    service_code_ids: Iterable[int] = (),
    port_ids: Iterable[int] = (),
    mas_server_ids: Iterable[int] = (),
    ismg_links: Iterable[tuple[str, int]] = (),
) -> QuerySet[Subscription]:
    """The live subscriptions that use any of the given resources: service codes, MAS
    ports, MAS servers, or ISMG links given as (host, port)."""
    condition = Q(pk__in=[])
    if service_code_ids := list(service_code_ids):
        condition |= Q(service_code_id__in=service_code_ids)
    if port_ids := list(port_ids):
        condition |= Q(port_id__in=port_ids)
    if mas_server_ids := list(mas_server_ids):
        condition |= Q(port__server_id__in=mas_server_ids)
    for host, port in ismg_links:
        condition |= Q(account__ismg_host=host, account__ismg_port=port)
    return (
        Subscription.objects.filter(state__in=Subscription.LIVE_STATES)
        .filter(condition)
        .select_related("enterprise", "service_code", "port__server")
        .distinct()
    )


def enterprises_affected_by(**resources) -> QuerySet[Enterprise]:
    """The enterprises a maintenance or fault on the given resources touches (第16条);
    same arguments as `subscriptions_affected_by`."""
    subscriptions = subscriptions_affected_by(**resources)
    return Enterprise.objects.filter(pk__in=subscriptions.values("enterprise_id")).order_by("name")


# --- inventory and worklist ---------------------------------------------------------------


def code_counts(queryset: QuerySet[ServiceCode] | None = None) -> dict[str, int]:
    """How many codes are in each state (and in total)."""
    queryset = ServiceCode.objects.all() if queryset is None else queryset
    counts = {state: 0 for state in ServiceCode.State.values}
    for row in queryset.order_by().values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    counts["total"] = sum(counts.values())
    return counts


def port_counts(queryset: QuerySet[MasPort] | None = None) -> dict[str, int]:
    """How many ports are in each state (and in total)."""
    queryset = MasPort.objects.all() if queryset is None else queryset
    counts = {state: 0 for state in MasPort.State.values}
    for row in queryset.order_by().values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    counts["total"] = sum(counts.values())
    return counts


def servers_with_utilisation() -> QuerySet[MasServer]:
    """MAS servers annotated with their ports per state (`n_available`, `n_reserved`,
    `n_assigned`, `n_retired`, `n_ports`)."""
    return MasServer.objects.annotate(
        n_ports=Count("ports"),
        **{
            f"n_{state}": Count("ports", filter=Q(ports__state=state))
            for state in MasPort.State.values
        },
    ).order_by("name")


def manager_worklist(user: User) -> dict:
    """What waits for a customer manager in fulfillment: orders needing attention,
    contracts expiring soon (warned), new accounts whose secret was not handed over."""
    orders = (
        orders_visible_to(user)
        .filter(
            state__in=[
                Order.State.DRAFT,
                Order.State.PENDING,
                Order.State.HELD,
                Order.State.FAILED,
                Order.State.PARTIAL,
            ]
        )
        .select_related("enterprise")
        .order_by("state", "-order_date")[:100]
    )
    expiring = (
        contracts_visible_to(user)
        .filter(state=Contract.State.ACTIVE, expiry_warned_for__isnull=False)
        .filter(expiry_warned_for=F("expires_on"))
        .filter(expires_on__gte=clock.today())
        .select_related("enterprise", "subscription__service_code")
        .order_by("expires_on")
    )
    secrets = (
        CmppAccount.objects.filter(
            enterprise__in=enterprises_visible_to(user),
            state=CmppAccount.State.ACTIVE,
            secret_revealed_at__isnull=True,
        )
        .select_related("enterprise")
        .order_by("sp_id")
    )
    return {"orders": orders, "expiring": expiring, "secrets": secrets}
