"""Hub delivery with a real broker and worker: the retries are real Celery retries."""

import time

import pytest
from django.test import override_settings

from core.models import EventDelivery
from core.roles import Role
from core.tasks import retry_countdown
from tests.tmf import CATALOG, CallbackReceiver, TmfClient, issue_token


@override_settings(TMF_EVENT_RETRY_BASE_SECONDS=30, TMF_EVENT_RETRY_MAX_SECONDS=3600)
def test_the_back_off_doubles_up_to_its_cap():
    assert [retry_countdown(n) for n in range(9)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
@override_settings(TMF_EVENT_RETRY_BASE_SECONDS=0)
def test_a_worker_delivers_after_failures(make_user):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    head = make_user(Role.DEPARTMENT_HEAD, username="head")
    api = TmfClient(issue_token(head, Role.DEPARTMENT_HEAD))
    app.conf.task_always_eager = False
    try:
        with (
            CallbackReceiver(failures=2) as receiver,
            start_worker(app, perform_ping_check=False, shutdown_timeout=30),
        ):
            assert api.post(f"{CATALOG}/hub", {"callback": receiver.url}).status_code == 201
            assert api.post(f"{CATALOG}/category", {"name": "行业短信"}).status_code == 201
            delivery = EventDelivery.objects.get()
            for _ in range(600):  # waits for the worker; no assertion on how long it took
                delivery.refresh_from_db()
                if delivery.state != EventDelivery.State.PENDING:
                    break
                time.sleep(0.05)
    finally:
        app.conf.task_always_eager = True
    assert delivery.state == EventDelivery.State.DELIVERED
    assert receiver.statuses == [500, 500, 201]
    assert list(delivery.attempts.values_list("status_code", flat=True)) == [500, 500, 201]
