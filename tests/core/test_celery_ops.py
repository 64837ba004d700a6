"""Celery in production: task routes by name to the four queues, one beat at a time."""

import os

import pytest
from django.conf import settings
from django.test import override_settings

from config.celery import app
from core import beat


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("fulfillment.tasks.provisioning_step_task", "provisioning"),
        ("fulfillment.tasks.orders_start_due_task", "provisioning"),
        ("fulfillment.tasks.contract_expiry_warning_task", "notifications"),
        ("core.tasks.tmf_event_deliver_task", "webhooks"),
        ("smsgw.tasks.report_webhook_deliver_task", "webhooks"),
        ("smsgw.tasks.report_callback_task", "webhooks"),
        ("assurance.tasks.sla_check_task", "notifications"),
        ("assurance.tasks.ticket_notify_task", "notifications"),
        ("billing.tasks.billing_run_task", "billing"),
        ("billing.tasks.invoice_email_task", "notifications"),
        ("core.tasks.retention_run_task", "default"),
        ("smsgw.tasks.sms_enqueue_task", "default"),
    ],
)
def test_routes(task, queue):
    route = app.amqp.router.route({}, task)
    assert route["queue"].name == queue


def test_a_worker_without_q_consumes_every_queue():
    names = {queue.name for queue in app.conf.task_queues}
    assert names == {"default", "provisioning", "notifications", "billing", "webhooks"}
    assert app.conf.beat_scheduler == "core.beat:LockedScheduler"


def test_file_lock_admits_one_holder(tmp_path):
    first = beat.FileLock(tmp_path / "beat.lock")
    second = beat.FileLock(tmp_path / "beat.lock")
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def _redis_url():
    return os.environ.get("MAS_TEST_REDIS_URL", "redis://127.0.0.1:6379/8")


def test_redis_lock_admits_one_holder_and_expires():
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(_redis_url(), socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis")
    first = beat.RedisLock(_redis_url(), ttl_seconds=30)
    second = beat.RedisLock(_redis_url(), ttl_seconds=30)
    first.client.delete(beat.LOCK_NAME)
    try:
        assert first.acquire()
        assert not second.acquire()
        assert first.renew() and not second.renew()
        second.release()  # not its lock: nothing happens
        assert first.holder() == first.token
        first.client.pexpire(beat.LOCK_NAME, 1)  # the holder died and its TTL ran out
        import time

        time.sleep(0.05)
        assert second.acquire()
        assert not first.renew()
    finally:
        first.client.delete(beat.LOCK_NAME)


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_lock_admits_one_holder():
    first = beat.PostgresLock(settings.DATABASES["default"])
    second = beat.PostgresLock(settings.DATABASES["default"])
    try:
        assert first.acquire()
        assert not second.acquire()
        first.release()  # closing the connection frees the lock, as a crash would
        import time

        for _ in range(100):  # the server ends the closed session a moment later
            if second.acquire():
                break
            time.sleep(0.05)
        else:
            pytest.fail("the lock was not released with its connection")
    finally:
        first.release()
        second.release()


class _Lock:
    def __init__(self, free):
        self.free = free
        self.released = False

    def acquire(self):
        return self.free

    def renew(self):
        return self.free

    def release(self):
        self.released = True


def test_a_standby_beat_sends_nothing(tmp_path, monkeypatch):
    sent = []
    monkeypatch.setattr(
        beat.PersistentScheduler, "tick", lambda self, *a, **k: sent.append(1) or 300
    )
    lock = _Lock(free=False)
    monkeypatch.setattr(beat, "beat_lock", lambda: lock)
    scheduler = beat.LockedScheduler(app=app, schedule_filename=str(tmp_path / "s"), lazy=True)
    assert scheduler.tick() == scheduler.standby_interval
    assert sent == []
    lock.free = True  # the active beat went away
    assert scheduler.tick() == 20  # renews well within the 60 s TTL
    assert sent == [1]
    lock.free = False  # lost the lock (e.g. Redis failover)
    assert scheduler.tick() == scheduler.standby_interval
    assert sent == [1]


@override_settings(CELERY_BEAT_LOCK_URL="", CELERY_BROKER_URL="filesystem://")
def test_lock_kind_follows_the_deployment():
    expected = (
        beat.PostgresLock
        if settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
        else beat.FileLock
    )
    assert isinstance(beat.beat_lock(), expected)
    with override_settings(CELERY_BEAT_LOCK_URL="redis://127.0.0.1:6379/8"):
        assert isinstance(beat.beat_lock(), beat.RedisLock)
