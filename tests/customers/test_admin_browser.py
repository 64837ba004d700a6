"""A customer manager works in the admin with a real browser."""

import pytest

from customers.models import Contact
from tests.browser import screenshot
from tests.customers.factories import EnterpriseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_logs_in_finds_an_enterprise_and_adds_a_contact(browser_page, manager):
    page = browser_page
    enterprise = EnterpriseFactory(account_manager=manager, name="郑州浏览器测试有限公司")
    EnterpriseFactory(account_manager=manager, name="洛阳其他客户有限公司")

    page.goto("/admin/")
    page.fill("#id_username", manager.username)
    page.fill("#id_password", "pass-1234")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    assert "集团短信 MAS 运营支撑系统" in page.inner_text("#site-name")

    page.goto("/admin/customers/enterprise/")
    page.fill("#searchbar", "浏览器测试")
    page.press("#searchbar", "Enter")
    page.wait_for_selector("#result_list")
    assert "洛阳其他客户" not in page.inner_text("#result_list")
    page.click(f"#result_list a:has-text('{enterprise.name}')")

    page.click("#contacts-group .add-row a")
    page.fill("#id_contacts-0-name", "王经理")
    page.fill("#id_contacts-0-role", "信息部经理")
    page.fill("#id_contacts-0-mobile", "+86 138 0371 5555")
    page.check("#id_contacts-0-is_primary")
    screenshot(page, "admin-add-contact")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    contact = Contact.objects.get(enterprise=enterprise)
    assert (contact.name, contact.mobile, contact.is_primary) == ("王经理", "13803715555", True)


def test_a_bad_mobile_number_is_refused_with_a_clear_message(browser_page, manager):
    page = browser_page
    enterprise = EnterpriseFactory(account_manager=manager)
    page.goto("/admin/login/")
    page.fill("#id_username", manager.username)
    page.fill("#id_password", "pass-1234")
    page.click("input[type=submit]")
    page.goto(f"/admin/customers/enterprise/{enterprise.pk}/change/")
    page.click("#contacts-group .add-row a")
    page.fill("#id_contacts-0-name", "错误号码")
    page.fill("#id_contacts-0-mobile", "0371-6555")
    page.click("input[name=_save]")
    page.wait_for_selector(".errorlist")
    assert "手机号码" in page.inner_text("#contacts-group")
    assert not Contact.objects.filter(enterprise=enterprise).exists()
