"""A customer manager places an order in the admin with a real browser and sees it complete."""

import pytest

from core import crypto
from fulfillment.models import CmppAccount, Order
from tests.browser import screenshot
from tests.customers.factories import ContactFactory
from tests.fulfillment.factories import inventory, ready_enterprise
from tests.product_lifecycle.factories import priced_offering

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_creates_an_order_and_sees_it_complete(browser_page, clock, manager):
    page = browser_page
    inventory(codes=3, ports=3)
    enterprise = ready_enterprise(manager, name="郑州浏览器下单有限公司")
    contact = ContactFactory(enterprise=enterprise, name="钱工")
    offering = priced_offering(name="集团短信MAS 浏览器测试版")

    page.goto("/admin/login/")
    page.fill("#id_username", manager.username)
    page.fill("#id_password", "pass-1234")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

    page.goto("/admin/fulfillment/order/add/")
    page.select_option("#id_enterprise", str(enterprise.pk))
    page.select_option("#id_action", "add")
    page.select_option("#id_offering", str(offering.pk))
    page.select_option("#id_cmpp_version", "3.0")
    page.select_option("#id_interface_type", "cmpp")
    page.fill("#id_access_ip", "10.88.1.20")
    page.select_option("#id_contact", str(contact.pk))
    screenshot(page, "admin-order-add")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")

    order = Order.objects.get()
    assert order.state == Order.State.DRAFT
    page.click("button[value=acknowledge]")
    page.wait_for_selector(".messagelist .success")
    screenshot(page, "admin-order-completed")

    order.refresh_from_db()
    assert order.state == Order.State.COMPLETED
    assert "已完成" in page.inner_text(".field-state")
    steps = page.inner_text("table.provisioning-steps")
    assert steps.count("成功") == 4
    assert "预留服务代码" in steps and "创建CMPP账号" in steps

    page.click("a.reveal-secret")
    page.click("#reveal-secret-confirm")
    secret = page.inner_text("#cmpp-secret")
    account = CmppAccount.objects.get()
    assert secret == crypto.decrypt(account.secret_encrypted)
    assert account.secret_revealed_by == manager
