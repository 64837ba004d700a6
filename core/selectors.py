"""Kernel read queries."""

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from .models import StateChange


def state_changes_for(obj: models.Model) -> QuerySet[StateChange]:
    """Every recorded state change of `obj`, oldest first."""
    return StateChange.objects.filter(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=obj.pk,
    ).order_by("at", "id")
