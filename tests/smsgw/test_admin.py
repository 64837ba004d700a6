"""Admin / NOC views: message search by number or Msg_Id, masking, scoping, links, terms."""

import pytest

from core.roles import Role
from smsgw import outbox
from smsgw.models import ForbiddenTerm, LinkState, Message
from smsgw.services import sms_enqueue

from .factories import registered_numbers, sending_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(clock, manager):
    sub = sending_subscription(manager, recipients=1)
    sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub), text="管理后台测试")
    items = outbox.outbox_claim(sender="a", sp_ids=[sub.account.sp_id], limit=5)
    outbox.submit_results_record(
        [outbox.SubmitOutcome(items[0].segment_id, items[0].message_id, 12345678901234, 0)]
    )
    return sub, Message.objects.get()


def test_noc_finds_a_message_by_msg_id_and_sees_the_segment_history(client, make_user, sent):
    _sub, message = sent
    client.force_login(make_user(Role.NOC_ENGINEER, username="noc"))

    listing = client.get("/admin/smsgw/message/", {"q": "12345678901234"})
    assert listing.status_code == 200
    assert message.msisdn in listing.content.decode()  # NOC sees full numbers

    detail = client.get(f"/admin/smsgw/message/{message.pk}/change/")
    page = detail.content.decode()
    assert "12345678901234" in page and "管理后台测试" in page


def test_manager_sees_masked_numbers_and_only_own_enterprises(client, manager, other_manager, sent):
    _sub, message = sent
    client.force_login(manager)
    listing = client.get("/admin/smsgw/message/", {"q": message.msisdn[-6:]})
    page = listing.content.decode()
    assert listing.status_code == 200
    assert message.msisdn not in page and f"{message.msisdn[:3]}****{message.msisdn[-4:]}" in page

    client.force_login(other_manager)
    assert message.msisdn[-4:] + "<" not in client.get("/admin/smsgw/message/").content.decode()
    assert (
        "0 条结果"
        in client.get("/admin/smsgw/message/", {"q": message.msisdn[-6:]}).content.decode()
    )
    response = client.get(f"/admin/smsgw/message/{message.pk}/change/")
    assert response.status_code in (302, 404)


def test_link_status_page(client, make_user):
    LinkState.objects.create(
        sender="s1", sp_id="100001", state="connected", connected=True, window=16, window_in_use=3
    )
    client.force_login(make_user(Role.NOC_ENGINEER, username="noc"))
    page = client.get("/admin/smsgw/linkstate/").content.decode()
    assert "100001" in page and "3/16" in page


def test_noc_edits_forbidden_terms(client, make_user, db):
    client.force_login(make_user(Role.NOC_ENGINEER, username="noc"))
    response = client.post(
        "/admin/smsgw/forbiddenterm/add/",
        {"term": "刷单", "category": ForbiddenTerm.Category.FRAUD, "is_active": "on", "note": ""},
    )
    assert response.status_code == 302
    assert ForbiddenTerm.objects.filter(term="刷单").exists()


def test_customer_manager_cannot_edit_forbidden_terms(client, manager):
    client.force_login(manager)
    assert client.get("/admin/smsgw/forbiddenterm/add/").status_code == 403


def test_noc_goes_from_a_log_line_to_the_request_by_its_trace_id(client, make_user, sent):
    _sub, message = sent
    trace_id = message.send_request.trace_id
    client.force_login(make_user(Role.NOC_ENGINEER, username="noc"))

    listing = client.get("/admin/smsgw/sendrequest/", {"q": trace_id})
    assert listing.status_code == 200
    assert f"/admin/smsgw/sendrequest/{message.send_request_id}/change/" in listing.content.decode()
    detail = client.get(f"/admin/smsgw/sendrequest/{message.send_request_id}/change/")
    assert trace_id in detail.content.decode()
    assert (
        client.get("/admin/smsgw/sendrequest/", {"q": "0" * 32})
        .content.decode()
        .count(f"/admin/smsgw/sendrequest/{message.send_request_id}/change/")
        == 0
    )
