"""The gapless counters: contract numbers from 1, enterprise codes (SP_Id) from 100001."""

from django.db import migrations


def create(apps, schema_editor):
    Sequence = apps.get_model("fulfillment", "Sequence")
    Sequence.objects.get_or_create(name="contract", defaults={"last_value": 0})
    Sequence.objects.get_or_create(name="sp_id", defaults={"last_value": 100000})


class Migration(migrations.Migration):
    dependencies = [("fulfillment", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
