"""The fault classes of 第14条第2款 and the usual ticket-type mappings.

Local line 6 h and backbone 24 h are the contract's figures; platform and MAS faults
get configurable defaults; faults of the enterprise's own equipment are not covered
(第7条、第8条). The local line class is the default for unclassified tickets: the
strictest clock, so nothing breaches unnoticed before NOC classifies it.
"""

from decimal import Decimal

from django.db import migrations

CLASSES = [
    ("local_line", "本地线路故障", Decimal("6"), True, "第14条第2款", 10),
    ("backbone", "骨干网络故障", Decimal("24"), False, "第14条第2款", 20),
    ("platform", "短信平台故障", Decimal("12"), False, "", 30),
    ("mas", "MAS 设备故障", Decimal("12"), False, "", 40),
    ("enterprise_side", "企业侧设备故障（不在保障范围）", None, False, "第7条、第8条", 50),
]
MAPPINGS = {
    "connectivity": "local_line",
    "linkdown": "local_line",
    "linkalarm": "backbone",
    "backbone": "backbone",
    "platform": "platform",
    "delivery": "platform",
    "mas": "mas",
}


def seed(apps, schema_editor):
    FaultClass = apps.get_model("assurance", "FaultClass")
    Mapping = apps.get_model("assurance", "TicketTypeMapping")
    for code, name, hours, default, basis, order in CLASSES:
        FaultClass.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "repair_hours": hours,
                "is_default": default,
                "basis": basis,
                "sort_order": order,
                "pause_states": ["pending"],
            },
        )
    for ticket_type, code in MAPPINGS.items():
        Mapping.objects.update_or_create(
            ticket_type=ticket_type,
            defaults={"fault_class": FaultClass.objects.get(code=code)},
        )


class Migration(migrations.Migration):
    dependencies = [("assurance", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
