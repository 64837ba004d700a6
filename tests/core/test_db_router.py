"""The replica router: off by default, opt-in reads only, writes and migrations on the primary."""

import pytest

from core import db
from core.db import ReplicaRouter, reads_from_replica, replica
from core.models import User


@pytest.fixture
def with_replica(monkeypatch):
    monkeypatch.setattr(db, "replica_configured", lambda: True)


def test_without_a_replica_nothing_changes():
    router = ReplicaRouter()
    with replica():
        assert router.db_for_read(User) is None


def test_reads_go_to_the_replica_only_when_asked(with_replica):
    router = ReplicaRouter()
    assert router.db_for_read(User) is None
    with replica():
        assert router.db_for_read(User) == db.REPLICA_ALIAS
        assert router.db_for_write(User) == "default"
        # after a write, the block reads its own writes from the primary
        assert router.db_for_read(User) is None
    assert router.db_for_read(User) is None


def test_decorated_view_reads_from_replica(with_replica):
    router = ReplicaRouter()

    @reads_from_replica
    def view():
        return router.db_for_read(User)

    assert view() == "replica"
    assert router.allow_migrate("replica", "core") is False
    assert router.allow_migrate("default", "core") is True


@pytest.mark.django_db
def test_settings_add_the_replica_from_the_environment(monkeypatch):
    import importlib

    import config.settings as settings_module

    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://ro@db2.internal:5432/mas")
    try:
        reloaded = importlib.reload(settings_module)
        assert reloaded.DATABASES["replica"]["HOST"] == "db2.internal"
        assert reloaded.DATABASE_ROUTERS == ["core.db.ReplicaRouter"]
    finally:
        monkeypatch.delenv("DATABASE_REPLICA_URL")
        importlib.reload(settings_module)
