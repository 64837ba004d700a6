"""The repair clock with a moving clock: targets, pauses, reclassification, exclusions,
milestones raised once and in order, escalation and notifications."""

import datetime as dt

import pytest
from django.core import mail

from assurance import services
from assurance.models import (
    BusinessCalendar,
    EscalationContact,
    FaultClass,
    Notification,
    SlaEvent,
    SlaPause,
    Ticket,
)
from tests.assurance.factories import active_subscription, noc_user, open_ticket
from tests.fulfillment.factories import committing

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)


@pytest.fixture
def noc(make_user):
    return noc_user(make_user)


@pytest.fixture
def subscription(clock, manager):
    return active_subscription(manager)


def levels(ticket) -> list[int]:
    return list(SlaEvent.objects.filter(ticket=ticket).values_list("level", flat=True))


def test_local_line_fault_has_a_six_hour_clock_from_the_report(clock, subscription, noc):
    ticket = open_ticket(by=noc, subscription=subscription, fault_class="local_line")
    assert ticket.reported_at == clock.now()
    assert ticket.sla_deadline == clock.now() + 6 * H
    assert ticket.enterprise == subscription.enterprise


def test_backbone_fault_has_a_twenty_four_hour_clock(clock, subscription, noc):
    ticket = open_ticket(by=noc, subscription=subscription, fault_class="backbone")
    assert ticket.sla_deadline == clock.now() + 24 * H


def test_ticket_type_maps_to_a_fault_class_and_is_kept_as_given(clock, subscription):
    ticket = open_ticket(subscription=subscription, ticket_type="LinkAlarm")
    assert ticket.fault_class.code == "backbone"
    assert ticket.ticket_type == "LinkAlarm"
    unknown = open_ticket(subscription=subscription, ticket_type="something odd")
    assert unknown.fault_class.is_default


def test_not_covered_faults_have_no_clock_and_never_breach(clock, subscription, noc):
    ticket = open_ticket(by=noc, subscription=subscription, fault_class="enterprise_side")
    assert ticket.sla_deadline is None and ticket.sla_target_seconds is None
    clock.advance(days=10)
    assert services.sla_check_due() == 0
    assert levels(ticket) == []


def test_pending_pauses_the_clock_and_each_pause_is_recorded(clock, subscription, noc):
    ticket = open_ticket(by=noc, subscription=subscription, fault_class="local_line")
    start = ticket.reported_at
    services.ticket_claim(ticket_id=ticket.pk, by=noc)
    clock.advance(hours=1)
    ticket = services.ticket_pend(ticket_id=ticket.pk, by=noc, reason="请提供发送日志")
    assert ticket.sla_deadline is None
    assert ticket.sla_remaining_seconds == 5 * 3600
    clock.advance(hours=2)
    ticket = services.ticket_resume(ticket_id=ticket.pk, by=noc)
    assert ticket.sla_deadline == start + 8 * H
    assert ticket.sla_paused_seconds == 2 * 3600
    pause = SlaPause.objects.get(ticket=ticket)
    assert (pause.started_at, pause.ended_at) == (start + H, start + 3 * H)
    assert pause.state == "pending" and pause.started_by == noc and pause.ended_by == noc


def test_held_does_not_pause_by_default(clock, subscription, noc):
    ticket = open_ticket(by=noc, subscription=subscription, fault_class="local_line")
    services.ticket_claim(ticket_id=ticket.pk, by=noc)
    ticket = services.ticket_hold(ticket_id=ticket.pk, by=noc, reason="等待厂家")
    assert ticket.sla_deadline == ticket.reported_at + 6 * H
    assert not SlaPause.objects.filter(ticket=ticket).exists()


def test_reclassifying_keeps_paused_time_and_counts_from_the_original_start(
    clock, subscription, noc
):
    ticket = open_ticket(by=noc, subscription=subscription, fault_class="local_line")
    start = ticket.reported_at
    services.ticket_claim(ticket_id=ticket.pk, by=noc)
    clock.advance(hours=1)
    services.ticket_pend(ticket_id=ticket.pk, by=noc, reason="等待企业")
    clock.advance(hours=2)
    services.ticket_resume(ticket_id=ticket.pk, by=noc)

    ticket = services.ticket_reclassify(
        ticket_id=ticket.pk, fault_class_code="backbone", by=noc, reason="骨干网故障"
    )

    assert ticket.sla_deadline == start + 24 * H + 2 * H
    assert ticket.fault_class.code == "backbone"
    back = services.ticket_reclassify(ticket_id=ticket.pk, fault_class_code="local_line", by=noc)
    assert back.sla_deadline == start + 6 * H + 2 * H


def test_warnings_and_breach_fire_on_time(clock, subscription, noc):
    ticket = open_ticket(by=noc, subscription=subscription, fault_class="local_line")
    services.ticket_claim(ticket_id=ticket.pk, by=noc)
    clock.advance(hours=2, minutes=59)
    services.sla_check_due()
    assert levels(ticket) == []
    clock.advance(minutes=1)
    services.sla_check_due()
    assert levels(ticket) == [50]
    clock.advance(hours=1, minutes=48)  # 4 h 48 min = 80 %
    services.sla_check_due()
    assert levels(ticket) == [50, 80]
    clock.advance(hours=1, minutes=12)
    services.sla_check_due()
    assert levels(ticket) == [50, 80, 100]
    ticket.refresh_from_db()
    assert ticket.sla_breached
    assert ticket.escalation_level == Ticket.Escalation.SHIFT_LEAD


def test_a_late_check_still_raises_every_milestone_once_and_in_order(clock, subscription, noc):
    ticket = open_ticket(by=noc, subscription=subscription, fault_class="local_line")
    start = ticket.reported_at
    clock.advance(hours=7)  # the periodic check did not run for seven hours
    assert services.sla_check_due() == 3
    events = list(SlaEvent.objects.filter(ticket=ticket).order_by("id"))
    assert [e.level for e in events] == [50, 80, 100]
    assert [e.due_at for e in events] == [start + 3 * H, start + 4.8 * H, start + 6 * H]
    assert all(e.raised_at == clock.now() for e in events)
    clock.advance(minutes=5)
    assert services.sla_check_due() == 0
    assert levels(ticket) == [50, 80, 100]


def test_escalation_reaches_the_head_at_one_and_a_half_times_the_target(
    clock, subscription, noc, head
):
    ticket = open_ticket(by=noc, subscription=subscription, fault_class="local_line")
    clock.advance(hours=9)
    services.sla_check_due()
    ticket.refresh_from_db()
    assert levels(ticket) == [50, 80, 100, 150]
    assert ticket.escalation_level == Ticket.Escalation.HEAD
    assert ticket.sla_next_check_at is None


def test_breach_notifies_owner_and_shift_lead_by_email_and_sms(clock, subscription, noc):
    EscalationContact.objects.create(
        level=1, name="值班长", email="lead@op.example.cn", mobile="13900000001"
    )
    ticket = open_ticket(by=noc, subscription=subscription, fault_class="local_line")
    services.ticket_claim(ticket_id=ticket.pk, by=noc)
    clock.advance(hours=6)
    with committing():
        services.sla_check_due()
    breach = Notification.objects.filter(ticket=ticket, topic="sla_100")
    assert {n.channel for n in breach} == {"sms", "email"}
    recipients = {m.to[0] for m in mail.outbox}
    assert {"noc_1@op.example.cn", "lead@op.example.cn"} <= recipients
    sms = breach.get(channel="sms")
    assert "13900000001" not in sms.recipient  # masked


def test_resolving_after_the_deadline_records_the_breach(clock, subscription, noc):
    ticket = open_ticket(by=noc, subscription=subscription, fault_class="local_line")
    services.ticket_claim(ticket_id=ticket.pk, by=noc)
    clock.advance(hours=6, minutes=30)  # the periodic check never ran
    ticket = services.ticket_resolve(ticket_id=ticket.pk, by=noc, resolution="更换光模块")
    assert ticket.sla_breached
    assert levels(ticket) == [50, 80, 100]
    assert ticket.sla_stopped_at == clock.now()


def test_resolution_stops_the_clock_and_rejection_runs_it_again(clock, subscription, noc):
    ticket = open_ticket(by=noc, subscription=subscription, fault_class="local_line")
    start = ticket.reported_at
    services.ticket_claim(ticket_id=ticket.pk, by=noc)
    clock.advance(hours=2)
    ticket = services.ticket_resolve(ticket_id=ticket.pk, by=noc, resolution="已重启")
    assert ticket.sla_next_check_at is None
    assert ticket.sla_remaining_seconds == 4 * 3600
    clock.advance(hours=5)
    assert services.sla_check_due() == 0
    ticket = services.ticket_reject_resolution(ticket_id=ticket.pk, by=None, reason="仍无法发送")
    assert ticket.state == Ticket.State.IN_PROGRESS
    assert ticket.sla_deadline == start + 6 * H
    services.sla_check_due()
    assert levels(ticket) == [50, 80, 100]


def test_business_calendar_clock(clock, subscription, noc):
    calendar = BusinessCalendar.objects.create(name="工作日")
    FaultClass.objects.create(
        code="office",
        name="办公时间故障",
        repair_hours=4,
        calendar=calendar,
        pause_states=["pending"],
    )
    # 2026-11-25 is a Wednesday, the clock reads 10:00 local.
    ticket = open_ticket(by=noc, subscription=subscription, fault_class="office")
    assert ticket.sla_deadline == ticket.reported_at + 4 * H
    clock.advance(hours=7)  # 17:00: half an hour left today
    late = open_ticket(by=noc, subscription=subscription, fault_class="office")
    assert late.sla_deadline == late.reported_at + 19 * H  # Thursday 12:00
    services.sla_check_due()
    assert levels(ticket) == [50, 80, 100, 150]  # 7 working hours used of 4


def test_a_fault_inside_an_announced_maintenance_window_is_excluded(clock, subscription, noc):
    window = services.maintenance_create(
        by=noc,
        title="端口割接",
        kind="cutover",
        starts_at=clock.now() + 25 * H,
        ends_at=clock.now() + 27 * H,
        port_ids=[subscription.port_id],
    )
    with committing():
        services.maintenance_announce(window_id=window.pk, by=noc)
    clock.advance(hours=26)
    ticket = open_ticket(by=noc, subscription=subscription)
    assert ticket.sla_excluded == Ticket.Exclusion.MAINTENANCE
    assert "端口割接" in ticket.sla_exclusion_reason
    assert ticket.maintenance == window


def test_force_majeure_exclusion_keeps_the_reason(clock, subscription, noc, head):
    ticket = open_ticket(by=noc, subscription=subscription)
    ticket = services.ticket_exclude(
        ticket_id=ticket.pk, by=head, kind="force_majeure", reason="暴雨导致光缆中断（第15条）"
    )
    assert ticket.sla_excluded == "force_majeure"
    assert ticket.sla_exclusion_reason == "暴雨导致光缆中断（第15条）"
    with pytest.raises(Exception, match="原因"):
        services.ticket_exclude(ticket_id=ticket.pk, by=head, kind="force_majeure", reason="")
