"""Portal test helpers: enterprise users logged in through the real login."""

from core.roles import Role
from customers import services as customer_services
from customers.models import Enterprise


def enterprise_user(
    enterprise: Enterprise, *, role: Role = Role.ENTERPRISE_ADMIN, username: str | None = None
):
    """A portal user of `enterprise` (password pass-1234)."""
    return customer_services.enterprise_user_create(
        enterprise_id=enterprise.pk,
        username=username or f"{role.value}_{enterprise.pk}",
        password="pass-1234",
        role=role,
        display_name="测试用户",
        email=f"{role.value}_{enterprise.pk}@example.cn",
    )
