"""Read queries for the enterprise file, including who may see which enterprise."""

from django.db.models import Count, Q, QuerySet

from core.models import User
from core.roles import Role

from .models import ChurnWarning, Enterprise, EnterpriseMembership, RegisteredRecipient, Signature


def enterprises_visible_to(user: User) -> QuerySet[Enterprise]:
    """The enterprises a staff user may see.

    Department heads (view_all_enterprises) and superusers see all; a customer manager
    sees only the enterprises assigned to them; other staff with the view permission
    (NOC, finance) see all read-only; anyone else sees none.
    """
    queryset = Enterprise.objects.all()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    if user.is_superuser or user.has_perm("customers.view_all_enterprises"):
        return queryset
    if user.groups.filter(name=Role.CUSTOMER_MANAGER).exists():
        return queryset.filter(account_manager=user)
    if user.has_perm("customers.view_enterprise"):
        return queryset
    return queryset.none()


def enterprise_of_user(user: User) -> Enterprise | None:
    """The one enterprise an enterprise user belongs to, or None for staff."""
    membership = (
        EnterpriseMembership.objects.select_related("enterprise").filter(user_id=user.pk).first()
    )
    return membership.enterprise if membership else None


def approved_signature(enterprise_id: int) -> Signature | None:
    """The enterprise's approved signature appended to its messages (the latest approved)."""
    return (
        Signature.objects.filter(enterprise_id=enterprise_id, state=Signature.State.APPROVED)
        .order_by("-reviewed_at", "-id")
        .first()
    )


def recipient_status(enterprise_id: int, msisdns: list[str]) -> dict[str, str]:
    """For each number: "registered", "opted_out" or absent when not on the list."""
    rows = RegisteredRecipient.objects.filter(enterprise_id=enterprise_id, msisdn__in=msisdns)
    return {
        msisdn: ("opted_out" if opted_out_at else "registered")
        for msisdn, opted_out_at in rows.values_list("msisdn", "opted_out_at")
    }


def manager_worklist(user: User) -> dict:
    """What is waiting for a customer manager: live churn warnings and signatures to review."""
    enterprises = enterprises_visible_to(user)
    warnings = (
        ChurnWarning.objects.filter(
            enterprise__in=enterprises,
            state__in=[ChurnWarning.State.OPEN, ChurnWarning.State.ACKNOWLEDGED],
        )
        .select_related("enterprise")
        .order_by("state", "raised_on")
    )
    signatures = (
        Signature.objects.filter(enterprise__in=enterprises, state=Signature.State.SUBMITTED)
        .select_related("enterprise")
        .order_by("created_at")
    )
    counts = enterprises.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(status=Enterprise.Status.ACTIVE)),
        prospects=Count("id", filter=Q(status=Enterprise.Status.PROSPECT)),
    )
    return {"warnings": warnings, "signatures": signatures, "counts": counts}
