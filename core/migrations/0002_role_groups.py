"""Create the role groups; their permissions are granted after migrate (core.roles)."""

from django.db import migrations

ROLE_GROUPS = (
    "department_head",
    "customer_manager",
    "noc_engineer",
    "finance",
    "enterprise_admin",
    "enterprise_operator",
)


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=ROLE_GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, remove_groups)]
