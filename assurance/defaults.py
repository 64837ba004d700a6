"""The fault classes and ticket-type mappings every installation has.

Migration 0002 creates them; this post_migrate receiver puts back any that are missing
(it never changes one that exists, so staff's edits to names and clocks stand). A
database flush (a restored empty schema, or a transactional test's teardown) removes
data-migration rows, and a ticket cannot be opened without the default class.
"""

import importlib


def ensure_fault_classes(*, using: str = "default", **kwargs) -> None:
    """Create the contract's fault classes and the usual mappings where they are missing."""
    from .models import FaultClass, TicketTypeMapping

    seed = importlib.import_module("assurance.migrations.0002_fault_classes")
    for code, name, hours, default, basis, order in seed.CLASSES:
        FaultClass.objects.using(using).get_or_create(
            code=code,
            defaults={
                "name": name,
                "repair_hours": hours,
                "is_default": default
                and not FaultClass.objects.using(using).filter(is_default=True).exists(),
                "basis": basis,
                "sort_order": order,
                "pause_states": ["pending"],
            },
        )
    for ticket_type, code in seed.MAPPINGS.items():
        TicketTypeMapping.objects.using(using).get_or_create(
            ticket_type=ticket_type,
            defaults={"fault_class": FaultClass.objects.using(using).get(code=code)},
        )
