"""The fulfillment admin: scoping, creating and following orders, inventory views,
the one-time secret, contract PDFs, and who may do what."""

import pytest
from django.urls import reverse

from core.roles import Role
from fulfillment import services
from fulfillment.models import CmppAccount, Order
from tests.customers.factories import ContactFactory
from tests.fulfillment.factories import (
    active_subscription,
    add_order,
    committing,
    inventory,
    one_month_later,
    ready_enterprise,
)
from tests.product_lifecycle.factories import priced_offering

pytestmark = pytest.mark.django_db


def _buttons(response) -> set[str]:
    import re

    return set(re.findall(r'name="_transition" value="([a-z_]+)"', response.content.decode()))


def test_a_manager_lists_and_opens_only_orders_of_their_enterprises(
    client, clock, manager, other_manager
):
    mine = active_subscription(manager, enterprise=ready_enterprise(manager, name="我的客户公司"))
    theirs = active_subscription(
        other_manager, enterprise=ready_enterprise(other_manager, name="别人的客户公司")
    )
    client.force_login(manager)
    body = client.get(reverse("admin:fulfillment_order_changelist")).content.decode()
    assert "我的客户公司" in body and "别人的客户公司" not in body
    for name, pk in (
        ("order", theirs.order_id),
        ("subscription", theirs.pk),
        ("cmppaccount", theirs.account.pk),
        ("contract", theirs.contract.pk),
    ):
        response = client.get(reverse(f"admin:fulfillment_{name}_change", args=[pk]))
        assert response.status_code == 302, name
    assert (
        client.get(reverse("admin:fulfillment_order_change", args=[mine.order_id])).status_code
        == 200
    )
    response = client.get(reverse("admin:fulfillment_contract_pdf", args=[theirs.contract.pk]))
    assert response.status_code == 404
    response = client.post(
        reverse("admin:fulfillment_cmppaccount_reveal", args=[theirs.account.pk])
    )
    assert response.status_code == 404
    assert CmppAccount.objects.get(pk=theirs.account.pk).secret_revealed_at is None


def test_a_department_head_sees_every_order_including_unknown_parties(client, clock, head, manager):
    active_subscription(manager, enterprise=ready_enterprise(manager, name="经理甲的客户"))
    services.order_create(
        by=None, enterprise="ext-99", items=[{"action": "add"}], channel=Order.Channel.TMF
    )
    client.force_login(head)
    body = client.get(reverse("admin:fulfillment_order_changelist")).content.decode()
    assert "经理甲的客户" in body and "ext-99" in body
    client.force_login(manager)
    body = client.get(reverse("admin:fulfillment_order_changelist")).content.decode()
    assert "ext-99" not in body


def test_a_manager_creates_a_draft_in_the_admin_submits_it_and_it_completes(client, clock, manager):
    inventory()
    enterprise = ready_enterprise(manager, name="郑州后台下单有限公司")
    contact = ContactFactory(enterprise=enterprise, name="赵工")
    offering = priced_offering()
    client.force_login(manager)
    response = client.post(
        reverse("admin:fulfillment_order_add"),
        {
            "enterprise": enterprise.pk,
            "requested_start_at_0": "2026-11-25",
            "requested_start_at_1": "10:00:00",
            "description": "",
            "action": "add",
            "offering": offering.pk,
            "cmpp_version": "3.0",
            "interface_type": "cmpp",
            "access_ip": "10.10.10.10",
            "contact": contact.pk,
            "code_province": "41",
            "_continue": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    order = Order.objects.get()
    assert order.state == Order.State.DRAFT
    item = order.items.get()
    assert (item.access_ip, item.contact_name, item.offering) == ("10.10.10.10", "赵工", offering)
    url = reverse("admin:fulfillment_order_change", args=[order.pk])
    assert _buttons(client.get(url)) == {"acknowledge", "abandon"}

    with committing():
        client.post(url, {"_transition": "acknowledge", "_transition_reason": ""})

    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    page = client.get(url)
    body = page.content.decode()
    assert "已完成" in body and body.count("成功") >= 4
    assert "显示共享密钥（仅一次）" in body
    assert _buttons(page) == set()


def test_a_rejected_order_shows_its_reasons(client, clock, manager):
    enterprise = ready_enterprise(manager, province="42", city="武汉市")
    order = add_order(manager, enterprise=enterprise)
    client.force_login(manager)
    body = client.get(reverse("admin:fulfillment_order_change", args=[order.pk])).content.decode()
    assert "第5条第5款" in body and "已拒绝" in body


def test_buttons_follow_the_state_and_the_override_is_for_heads_only(client, clock, manager, head):
    subscription = active_subscription(manager)
    waiting = add_order(manager, start=one_month_later())
    client.force_login(manager)
    url = reverse("admin:fulfillment_order_change", args=[waiting.pk])
    assert _buttons(client.get(url)) == {"pend", "hold", "request_cancellation"}

    draft = services.order_create(
        by=manager,
        enterprise=subscription.enterprise_id,
        items=[
            services.ItemRequest(action="modify", subscription=subscription.pk, cmpp_version="2.0")
        ],
        submit=False,
    )
    url = reverse("admin:fulfillment_order_change", args=[draft.pk])
    assert "override_notice" not in _buttons(client.get(url))
    client.force_login(head)
    assert "override_notice" in _buttons(client.get(url))
    client.post(url, {"_transition": "override_notice", "_transition_reason": "紧急"})
    draft.refresh_from_db()
    assert draft.notice_override_by == head


def test_the_secret_page_shows_it_once(client, clock, manager):
    account = active_subscription(manager).account
    client.force_login(manager)
    url = reverse("admin:fulfillment_cmppaccount_reveal", args=[account.pk])
    assert "cmpp-secret" not in client.get(url).content.decode()
    assert CmppAccount.objects.get(pk=account.pk).secret_revealed_at is None

    response = client.post(url)
    assert "no-store" in response["Cache-Control"]
    from core import crypto

    assert crypto.decrypt(account.secret_encrypted) in response.content.decode()

    again = client.post(url, follow=True)
    body = again.content.decode()
    assert "不能再次显示" in body
    assert crypto.decrypt(account.secret_encrypted) not in body


def test_noc_reads_the_inventory_and_subscriptions_but_not_orders(
    client, clock, manager, make_user
):
    subscription = active_subscription(manager)
    noc = make_user(Role.NOC_ENGINEER, username="noc")
    client.force_login(noc)
    for name in (
        "servicecode",
        "masport",
        "masserver",
        "servicecodeblock",
        "subscription",
        "cmppaccount",
    ):
        assert client.get(reverse(f"admin:fulfillment_{name}_changelist")).status_code == 200, name
    assert client.get(reverse("admin:fulfillment_order_changelist")).status_code == 403
    assert (
        client.get(
            reverse("admin:fulfillment_cmppaccount_reveal", args=[subscription.account.pk])
        ).status_code
        == 403
    )
    body = client.get(
        reverse("admin:fulfillment_subscription_change", args=[subscription.pk])
    ).content.decode()
    assert 'name="_transition"' not in body


def test_finance_reads_subscriptions_and_contracts_and_downloads_the_pdf(
    client, clock, manager, make_user
):
    subscription = active_subscription(manager)
    finance = make_user(Role.FINANCE, username="finance")
    client.force_login(finance)
    assert client.get(reverse("admin:fulfillment_contract_changelist")).status_code == 200
    assert client.get(reverse("admin:fulfillment_subscription_changelist")).status_code == 200
    assert client.get(reverse("admin:fulfillment_order_changelist")).status_code == 403
    response = client.get(
        reverse("admin:fulfillment_contract_pdf", args=[subscription.contract.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_inventory_lists_show_counts_per_state(client, clock, head, manager):
    active_subscription(manager)
    client.force_login(head)
    body = client.get(reverse("admin:fulfillment_servicecode_changelist")).content.decode()
    assert "按状态统计" in body and "已分配" in body
    body = client.get(reverse("admin:fulfillment_masport_changelist")).content.decode()
    assert "各 MAS 服务器端口使用" in body
    body = client.get(reverse("admin:fulfillment_masserver_changelist")).content.decode()
    assert "利用率" in body
    body = client.get(
        reverse("admin:fulfillment_servicecode_changelist") + "?state__exact=assigned"
    ).content.decode()
    assert "1069" in body


def test_the_worklist_shows_what_waits_and_the_index_links_to_it(client, clock, manager):
    active_subscription(manager, enterprise=ready_enterprise(manager, name="待交密钥的公司"))
    client.force_login(manager)
    assert (
        reverse("admin:fulfillment_worklist") in client.get(reverse("admin:index")).content.decode()
    )
    body = client.get(reverse("admin:fulfillment_worklist")).content.decode()
    assert "待交密钥的公司" in body


def test_a_head_adds_a_code_block_and_a_server_in_the_admin(client, clock, head):
    client.force_login(head)
    response = client.post(
        reverse("admin:fulfillment_servicecodeblock_add"),
        {
            "first_code": "10690371000",
            "last_code": "10690371009",
            "extension_digits": 6,
            "province": "41",
            "note": "新号段",
        },
    )
    assert response.status_code == 302
    response = client.post(
        reverse("admin:fulfillment_servicecodeblock_add"),
        {
            "first_code": "10690371005",
            "last_code": "10690371019",
            "extension_digits": 6,
            "province": "41",
            "note": "重叠",
        },
    )
    assert response.status_code == 200 and "重叠" in response.content.decode()
    response = client.post(
        reverse("admin:fulfillment_masserver_add"),
        {
            "name": "许昌MAS-01",
            "location": "许昌市",
            "host": "",
            "ismg_host": "127.0.0.1",
            "ismg_port": 7890,
            "capacity": 8,
            "in_service": "on",
            "note": "",
            "add_ports": 4,
        },
    )
    assert response.status_code == 302
    from fulfillment.models import MasServer, ServiceCode

    assert ServiceCode.objects.count() == 10
    assert MasServer.objects.get(name="许昌MAS-01").ports.count() == 4


def test_a_manager_terminates_a_contract_early_with_a_ground(client, clock, manager):
    subscription = active_subscription(manager)
    client.force_login(manager)
    url = reverse("admin:fulfillment_contract_change", args=[subscription.contract.pk])
    buttons = _buttons(client.get(url))
    assert {
        "terminate_mutual_agreement",
        "terminate_breach",
        "terminate_force_majeure",
        "non_renewal_enterprise",
        "non_renewal_operator",
    } == buttons
    client.post(url, {"_transition": "terminate_breach", "_transition_reason": "违规发送"})
    subscription.refresh_from_db()
    assert subscription.state == "terminated"
    assert subscription.contract.termination_reason == "breach"


def test_a_manager_edits_a_draft_in_the_admin(client, clock, manager):
    import re

    enterprise = ready_enterprise(manager)
    offering = priced_offering()
    draft = services.order_create(
        by=manager,
        enterprise=enterprise.pk,
        items=[services.ItemRequest(action="add", offering=offering.pk, access_ip="10.1.1.1")],
        submit=False,
    )
    client.force_login(manager)
    url = reverse("admin:fulfillment_order_change", args=[draft.pk])
    page = client.get(url).content.decode()
    management = dict(
        re.findall(
            r'name="([^"]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"'
            r'[^>]*value="(\d*)"',
            page,
        )
    )
    assert 'value="10.1.1.1"' in page
    response = client.post(
        url,
        {
            **management,
            "enterprise": enterprise.pk,
            "requested_start_at_0": "2026-11-26",
            "requested_start_at_1": "09:00:00",
            "action": "add",
            "offering": offering.pk,
            "cmpp_version": "2.0",
            "interface_type": "http",
            "access_ip": "10.1.1.2",
            "contact_name": "孙工",
            "code_province": "41",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    item = Order.objects.get(pk=draft.pk).items.get()
    assert (item.access_ip, item.cmpp_version, item.interface_type, item.contact_name) == (
        "10.1.1.2",
        "2.0",
        "http",
        "孙工",
    )
