"""Fixtures shared by the whole suite: the movable clock and users of each role."""

import datetime as dt
import os

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from core import clock as core_clock
from core.roles import Role


@pytest.fixture
def clock():
    """The project clock, frozen at 2026-11-25 10:00 Asia/Shanghai; tests move it."""
    start = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)
    core_clock.freeze(start)
    yield core_clock
    core_clock.unfreeze()


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_user(db):
    """make_user(role, username=...) creates a user in the role's group."""
    from tests.core.factories import UserFactory

    def make(role: Role | None = None, **kwargs):
        if role is not None and role not in (Role.ENTERPRISE_ADMIN, Role.ENTERPRISE_OPERATOR):
            kwargs.setdefault("is_staff", True)
        user = UserFactory(**kwargs)
        if role is not None:
            user.groups.add(Group.objects.get(name=role.value))
        return user

    return make


@pytest.fixture
def manager(make_user):
    return make_user(Role.CUSTOMER_MANAGER, username="manager_a")


@pytest.fixture
def other_manager(make_user):
    return make_user(Role.CUSTOMER_MANAGER, username="manager_b")


@pytest.fixture
def head(make_user):
    return make_user(Role.DEPARTMENT_HEAD, username="head")


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    """Skip PostgreSQL-only tests on SQLite and broker tests when no broker is set."""
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    broker = os.environ.get("CELERY_BROKER_URL", "")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if "broker" in item.keywords and not broker.startswith(("redis://", "amqp://")):
            item.add_marker(pytest.mark.skip(reason="needs a real broker (set CELERY_BROKER_URL)"))


from tests.browser import browser_page  # noqa: E402, F401  (fixture)
