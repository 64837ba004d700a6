"""Roles as Django groups, and the permissions each role holds.

The groups are created by a data migration. Each app declares the permissions its roles
need in its AppConfig (`role_permissions = {"<group>": ["app_label.codename", ...]}`);
after every migrate `sync_role_permissions` grants exactly those, so a permission added
with a new model reaches its role without a hand-written migration.
"""

from django.apps import apps as global_apps
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The project's roles; the value is the group's name."""

    DEPARTMENT_HEAD = "department_head", _("部门负责人")
    CUSTOMER_MANAGER = "customer_manager", _("客户经理")
    NOC_ENGINEER = "noc_engineer", _("网络维护工程师")
    FINANCE = "finance", _("财务")
    ENTERPRISE_ADMIN = "enterprise_admin", _("企业管理员")
    ENTERPRISE_OPERATOR = "enterprise_operator", _("企业操作员")


STAFF_ROLES = {Role.DEPARTMENT_HEAD, Role.CUSTOMER_MANAGER, Role.NOC_ENGINEER, Role.FINANCE}
ENTERPRISE_ROLES = {Role.ENTERPRISE_ADMIN, Role.ENTERPRISE_OPERATOR}


def declared_role_permissions(app_registry=global_apps) -> dict[str, set[str]]:
    """Every app's `role_permissions`, merged per group name.

    Department heads also hold every permission a customer manager holds.
    """
    merged: dict[str, set[str]] = {role.value: set() for role in Role}
    for config in app_registry.get_app_configs():
        for group, perms in getattr(config, "role_permissions", {}).items():
            merged.setdefault(group, set()).update(perms)
    merged[Role.DEPARTMENT_HEAD].update(merged[Role.CUSTOMER_MANAGER])
    return merged


def sync_role_permissions(sender=None, **kwargs) -> None:
    """Grant each role group exactly the permissions the apps declare (post_migrate)."""
    from django.contrib.auth.models import Group, Permission

    using = kwargs.get("using", "default")
    declared = declared_role_permissions()
    wanted_codes = {perm for perms in declared.values() for perm in perms}
    by_code = {}
    for perm in Permission.objects.using(using).select_related("content_type"):
        code = f"{perm.content_type.app_label}.{perm.codename}"
        if code in wanted_codes:
            by_code[code] = perm
    for group_name, perms in declared.items():
        group, _created = Group.objects.using(using).get_or_create(name=group_name)
        group.permissions.set([by_code[code] for code in sorted(perms) if code in by_code])


def user_has_role(user, role: Role) -> bool:
    """Whether an authenticated user belongs to the role's group."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.groups.filter(name=role.value).exists()
