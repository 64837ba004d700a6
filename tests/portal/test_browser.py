"""Enterprise users in the portal with a real (headless Chromium) browser."""

import pytest

from customers.models import RegisteredRecipient
from tests.browser import screenshot
from tests.customers.factories import active_enterprise
from tests.portal.factories import enterprise_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, user):
    page.goto("/portal/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pass-1234")
    page.click("main button[type=submit]")
    page.wait_for_selector("nav.site-nav")


def test_an_administrator_uploads_a_csv_with_bad_rows_and_sees_them_refused(
    browser_page, manager, tmp_path
):
    page = browser_page
    enterprise = active_enterprise(manager, name="郑州浏览器测试有限公司")
    admin = enterprise_user(enterprise)
    upload = tmp_path / "名单.csv"
    upload.write_text(
        "手机号码,姓名,分组,同意方式,同意时间\n"
        "13800138000,张三,员工,纸质登记表,2026-01-05 09:00\n"
        "12345,坏号码,员工,纸质登记表,2026-01-05\n"
        "13800138000,重复,员工,纸质登记表,2026-01-05\n",
        encoding="utf-8-sig",
    )

    _log_in(page, admin)
    screenshot(page, "portal-dashboard")
    page.click("nav.site-nav >> text=注册客户名单")
    page.click("text=批量导入")
    page.set_input_files("#id_file", str(upload))
    page.click("main form button:has-text('检查文件')")
    page.wait_for_selector("#h-report")

    refused = page.inner_text("#h-report + .table-wrap")
    assert "12345" in refused or "手机号码" in refused
    assert "号码在文件中重复" in refused
    assert page.locator("tr.row-refused").count() == 2
    assert page.locator("input[name=confirm]").count() == 0
    screenshot(page, "portal-import-refused")
    assert not RegisteredRecipient.objects.filter(enterprise=enterprise).exists()

    good = tmp_path / "good.csv"
    good.write_text(
        "手机号码,姓名,分组,同意方式,同意时间\n13800138000,张三,员工,纸质登记表,2026-01-05\n",
        encoding="utf-8-sig",
    )
    page.set_input_files("#id_file", str(good))
    page.click("main form button:has-text('检查文件')")
    page.click("button:has-text('确认导入')")
    page.wait_for_selector(".message-success")
    assert "13800138000" in page.inner_text("table")
    assert RegisteredRecipient.objects.filter(enterprise=enterprise).count() == 1
