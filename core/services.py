"""Kernel write services."""

from django.contrib.contenttypes.models import ContentType
from django.db import models

from . import clock
from .models import StateChange, User


def state_change_record(
    *,
    obj: models.Model,
    before: str,
    by: User | None,
    reason: str = "",
    field: str = "state",
) -> StateChange:
    """Record that `obj.<field>` moved from `before` to its current value.

    Call inside the transaction that saved the change, so the record and the change
    commit or roll back together.
    """
    user = by if by is not None and getattr(by, "is_authenticated", False) else None
    return StateChange.objects.create(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=obj.pk,
        field=field,
        from_state=before,
        to_state=getattr(obj, field),
        by=user,
        at=clock.now(),
        reason=reason,
    )
