"""Ticket rules beyond the clock: first-contact ownership, hand-over, the quiet period,
link alarms, refused transitions, notes and bad input."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django_fsm import TransitionNotAllowed

from assurance import services
from assurance.models import Ticket, TicketNote
from core.models import StateChange
from tests.assurance.factories import active_subscription, noc_user, open_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def noc(make_user):
    return noc_user(make_user)


@pytest.fixture
def subscription(clock, manager):
    return active_subscription(manager)


def test_the_first_taker_stays_owner_through_hand_overs(subscription, noc, make_user):
    second = noc_user(make_user, "noc_2")
    ticket = open_ticket(subscription=subscription)
    services.ticket_claim(ticket_id=ticket.pk, by=noc)
    services.ticket_assign(ticket_id=ticket.pk, by=noc, to=second, reason="转交传输专业")
    services.ticket_claim(ticket_id=ticket.pk, by=second)
    ticket.refresh_from_db()
    assert ticket.owner == noc and ticket.assignee == second
    assert TicketNote.objects.filter(ticket=ticket, public=False, text__contains="转派").exists()


def test_staff_who_take_a_report_own_it(subscription, noc):
    ticket = open_ticket(by=noc, subscription=subscription, take_ownership=True)
    assert ticket.owner == noc and ticket.state == Ticket.State.ACKNOWLEDGED


def test_every_transition_is_recorded_and_impossible_ones_refused(subscription, noc):
    ticket = open_ticket(subscription=subscription)
    with pytest.raises(TransitionNotAllowed):
        services.ticket_resolve(ticket_id=ticket.pk, by=noc, resolution="x")
    services.ticket_claim(ticket_id=ticket.pk, by=noc)
    services.ticket_hold(ticket_id=ticket.pk, by=noc, reason="等待厂家备件")
    services.ticket_resume(ticket_id=ticket.pk, by=noc)
    services.ticket_resolve(ticket_id=ticket.pk, by=noc, resolution="已更换")
    states = list(
        StateChange.objects.filter(
            content_type=ContentType.objects.get_for_model(Ticket),
            object_id=ticket.pk,
            field="state",
        )
        .order_by("at", "id")
        .values_list("to_state", flat=True)
    )
    assert states == ["acknowledged", "inProgress", "held", "inProgress", "resolved"]
    with pytest.raises(ValidationError):
        services.ticket_pend(ticket_id=ticket.pk, by=noc, reason="")


def test_cancel_and_reject_end_the_ticket(subscription, noc):
    first = open_ticket(subscription=subscription)
    second = open_ticket(subscription=subscription)
    assert services.ticket_cancel(ticket_id=first.pk, by=None, reason="误报").state == "cancelled"
    with pytest.raises(ValidationError):
        services.ticket_reject(ticket_id=second.pk, by=noc, reason="")
    rejected = services.ticket_reject(ticket_id=second.pk, by=noc, reason="企业侧防火墙")
    assert rejected.state == "rejected" and rejected.sla_stopped_at is not None
    with pytest.raises(ValidationError):
        services.ticket_claim(ticket_id=rejected.pk, by=noc)


def test_a_resolution_closes_itself_after_the_quiet_period(clock, subscription, noc, settings):
    settings.ASSURANCE_RESOLVED_QUIET_HOURS = 72
    ticket = open_ticket(subscription=subscription)
    services.ticket_claim(ticket_id=ticket.pk, by=noc)
    services.ticket_resolve(ticket_id=ticket.pk, by=noc, resolution="已修复")
    clock.advance(hours=71)
    assert services.tickets_close_quiet() == 0
    clock.advance(hours=2)
    assert services.tickets_close_quiet() == 1
    ticket.refresh_from_db()
    assert ticket.state == Ticket.State.CLOSED


def test_link_alarms_open_one_backbone_ticket_per_link(clock):
    first = services.ticket_raise_from_alarm(ismg_host="10.1.1.1", ismg_port=7890, text="链路断开")
    again = services.ticket_raise_from_alarm(ismg_host="10.1.1.1", ismg_port=7890, text="仍断开")
    assert first.pk == again.pk
    assert first.fault_class.code == "backbone" and first.channel == "alarm"
    assert first.notes.get().text == "仍断开"
    other = services.ticket_raise_from_alarm(ismg_host="10.1.1.2", ismg_port=7890, text="断开")
    assert other.pk != first.pk


def test_bad_input_writes_nothing(subscription, manager):
    other = active_subscription(manager)
    with pytest.raises(ValidationError):
        services.ticket_create(
            by=None,
            description="x",
            ticket_type="t",
            severity="s",
            channel="staff",
            enterprise_id=subscription.enterprise_id,
            subscription_ids=[other.pk],
        )
    with pytest.raises(ValidationError):
        open_ticket(subscription=subscription, description="  ")
    with pytest.raises(ValidationError):
        open_ticket(subscription=subscription, fault_class="nonexistent")
    assert not Ticket.objects.exists()
