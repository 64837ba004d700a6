"""Retention: registered fields are purged or pseudonymised in batches after N days."""

import datetime as dt
import uuid

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.test import override_settings

from core import retention
from core.models import DeliveryAttempt, EventDelivery, OutboxEvent, User
from core.retention import RetentionPolicy, mask_mobile_value, pseudonym

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy():
    registered = []

    def add(**kwargs):
        registered.append(retention.register(RetentionPolicy(**kwargs)).name)
        return retention.policies()[-1]

    yield add
    for name in registered:
        retention.unregister(name)


def _user(n, *, days_ago, clock, mobile="13800138000"):
    return User.objects.create(
        username=f"u{n}",
        mobile=mobile,
        email=f"u{n}@example.cn",
        date_joined=clock.now() - dt.timedelta(days=days_ago),
    )


def test_pseudonymise_in_batches_keeps_the_rest(clock, policy):
    contacts = policy(
        name="test.contacts",
        model="core.User",
        date_field="date_joined",
        fields={"mobile": mask_mobile_value, "email": ""},
        pending=~Q(email=""),
    )
    old = [_user(i, days_ago=200, clock=clock) for i in range(7)]
    young = _user(99, days_ago=10, clock=clock)

    assert contacts.due().count() == 7
    assert retention.run_policy(contacts, batch_size=3, pause=0) == 7
    for user in old:
        user.refresh_from_db()
        assert (user.mobile, user.email) == ("138****8000", "")
        assert user.username.startswith("u")  # what is not personal data stays
    young.refresh_from_db()
    assert young.mobile == "13800138000"
    # idempotent: a second run has nothing to do
    assert retention.run_policy(contacts, pause=0) == 0


def test_days_come_from_settings_or_the_policy(clock, policy):
    _user(1, days_ago=40, clock=clock)
    by_default = policy(
        name="test.default_days",
        model="core.User",
        date_field="date_joined",
        fields={"email": ""},
    )
    fixed = policy(
        name="test.fixed_days", model="core.User", date_field="date_joined", fields={"email": ""}
    )
    object.__setattr__(fixed, "days", 30)
    assert by_default.retention_days() == 180
    assert by_default.due().count() == 0
    assert fixed.due().count() == 1
    with override_settings(RETENTION_DAYS=31):
        assert by_default.due().count() == 1


def test_max_batches_bounds_one_run(clock, policy):
    contacts = policy(
        name="test.bounded", model="core.User", date_field="date_joined", fields={"email": ""}
    )
    for i in range(5):
        _user(i, days_ago=365, clock=clock)
    assert retention.run_policy(contacts, batch_size=2, max_batches=1, pause=0) == 2
    assert contacts.due().count() == 3


def _event(clock, *, days_ago, state):
    event = OutboxEvent.objects.create(
        api="customerManagement",
        event_id=uuid.uuid4(),
        event_type="IndividualCreateEvent",
        event_time=clock.now() - dt.timedelta(days=days_ago),
        payload={"contactMedium": [{"characteristic": {"phoneNumber": "13800138000"}}]},
    )
    delivery = EventDelivery.objects.create(event=event, callback="http://cb.example/")
    DeliveryAttempt.objects.create(delivery=delivery, number=1, succeeded=False)
    EventDelivery.objects.filter(pk=delivery.pk).update(state=state)
    return event


def test_core_purges_old_tmf_events_but_not_those_still_being_delivered(clock):
    old_done = _event(clock, days_ago=181, state="delivered")
    old_failed = _event(clock, days_ago=400, state="failed")
    old_pending = _event(clock, days_ago=181, state="pending")
    recent = _event(clock, days_ago=5, state="delivered")

    results = retention.run_all(pause=0)
    assert results["core.tmf_events"] == 2
    remaining = set(OutboxEvent.objects.values_list("pk", flat=True))
    assert remaining == {old_pending.pk, recent.pk}
    assert not EventDelivery.objects.filter(event_id__in=[old_done.pk, old_failed.pk]).exists()


def test_one_failing_policy_does_not_stop_the_others(clock, policy):
    policy(name="test.broken", model="core.User", date_field="no_such_field", fields={"email": ""})
    _event(clock, days_ago=200, state="delivered")
    results = retention.run_all(pause=0)
    assert results["test.broken"] == -1
    assert results["core.tmf_events"] == 1


def test_the_command_and_the_task(clock, capsys):
    from core.tasks import retention_run_task

    _event(clock, days_ago=200, state="delivered")
    call_command("retention", "--dry-run")
    assert "core.tmf_events: 1 rows older than 180 days, due" in capsys.readouterr().out
    assert retention_run_task.delay().get()["core.tmf_events"] == 1
    assert not OutboxEvent.objects.exists()


def test_policy_validation_and_pseudonyms():
    with pytest.raises(ValueError):
        RetentionPolicy(name="x", model="core.User", date_field="date_joined", action="archive")
    with pytest.raises(ValueError):
        RetentionPolicy(name="x", model="core.User", date_field="date_joined")
    with pytest.raises(ValueError):
        RetentionPolicy(
            name="x", model="core.User", date_field="date_joined", fields={"mobile": pseudonym}
        )
    assert pseudonym("13800138000") == pseudonym("13800138000")
    assert pseudonym("13800138000") != pseudonym("13800138001")
    assert "13800138000" not in pseudonym("13800138000")
    assert mask_mobile_value(mask_mobile_value("13800138000")) == "138****8000"
