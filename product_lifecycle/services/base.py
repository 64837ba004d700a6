"""What the catalog services share: publishing TMF620 events and refusing unknown fields."""

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.translation import gettext as _


def publish(obj: Model, event_type: str) -> None:
    """Put a TMF620 event about `obj` in the outbox (only if some subscriber wants it)."""
    from ..api.events import publish_catalog_event

    publish_catalog_event(obj, event_type)


def refuse_unknown(fields, allowed) -> None:
    """Refuse fields a service does not accept (the caller names the ones it may set)."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(_("不可修改的字段：%(f)s") % {"f": ", ".join(sorted(unknown))})
