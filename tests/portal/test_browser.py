"""Enterprise users in the portal with a real (headless Chromium) browser."""

import threading

import pytest

from core.roles import Role
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
    # Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
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


def test_an_operator_sends_a_message_and_watches_it_reach_delivrd(browser_page, manager, clock):
    """Type a message (the live counter agrees with the gateway's split), send it to a
    registered number, then run the sender against the bundled CMPP simulator while the
    progress page polls; the message detail shows Msg_Id and the DELIVRD report."""
    from smsgw.cmpp.text import split_text
    from smsgw.models import Message, MessageState
    from tests.smsgw.conftest import run_sender_with_simulator
    from tests.smsgw.factories import registered_numbers, sending_subscription

    page = browser_page
    sub = sending_subscription(manager, recipients=2)
    number = registered_numbers(sub)[0]
    operator = enterprise_user(sub.enterprise, role=Role.ENTERPRISE_OPERATOR)

    _log_in(page, operator)
    page.click("nav.site-nav >> text=发送短信")
    preview = page.locator("#sms-preview")
    signature = preview.get_attribute("data-signature")
    for text in ("hello", "a" * 150, "通知" * 35, "长" * 80, "x😀" * 40):
        page.fill("#id_text", text)
        shown = int(page.locator("#sms-counter").get_attribute("data-segments"))
        content = preview.inner_text()
        assert content == text + signature
        assert shown == len(split_text(content, 0)), text
    page.fill("#id_recipients", f"{number}\n13912345678")
    page.fill("#id_text", "明早九点在三楼开会，请准时参加。")
    screenshot(page, "portal-send-compose")
    page.click("button[name=send]")
    page.wait_for_selector("#send-progress")
    assert "13912345678" in page.inner_text("#h-refused + .table-wrap")
    assert page.get_attribute("#send-progress", "data-done") == "0"
    screenshot(page, "portal-send-progress-queued")

    worker = threading.Thread(target=run_sender_with_simulator, daemon=True)
    worker.start()
    page.wait_for_function(
        "document.getElementById('send-progress').getAttribute('data-done') === '1'",
        timeout=30_000,
    )
    worker.join(30)
    assert page.inner_text("[data-state=delivered]") == "1"
    screenshot(page, "portal-send-progress-delivered")

    message = Message.objects.get(msisdn=number)
    assert message.state == MessageState.DELIVERED
    page.click("text=查看每个号码的状态")
    page.click(f"a[aria-label*='{number}']")
    assert page.inner_text("#message-state") == "已送达"
    assert page.inner_text("td.report-stat") == "DELIVRD"
    msg_id = message.segments.get().msg_id
    assert msg_id and msg_id in page.inner_text("table")
    screenshot(page, "portal-message-delivrd")


def test_with_javascript_off_the_send_pages_still_work(
    browser_page, live_server, manager, clock, tmp_path
):
    """No script: the preview button gives the server's count, a bulk file is previewed
    with its refused rows, and the progress page refreshes by a link."""
    from smsgw.models import SendRequest
    from tests.smsgw.factories import registered_numbers, sending_subscription

    sub = sending_subscription(manager, recipients=2)
    first, second = registered_numbers(sub)
    operator = enterprise_user(sub.enterprise, role=Role.ENTERPRISE_OPERATOR)
    context = browser_page.context.browser.new_context(
        java_script_enabled=False, base_url=live_server.url, locale="zh-CN"
    )
    page = context.new_page()
    try:
        _log_in(page, operator)
        page.goto("/portal/send/")
        page.fill("#id_text", "长" * 80)
        page.click("button[name=preview]")
        assert "拆分为 2 条计费" in page.inner_text("#sms-counter")
        assert not SendRequest.objects.exists()

        upload = tmp_path / "numbers.csv"
        upload.write_text(f"手机号码\n{first}\n12345\n13912345678\n{second}\n", encoding="utf-8")
        page.click("text=从文件批量发送")
        page.set_input_files("#id_file", str(upload))
        page.fill("#id_text", "周五下午停水通知")
        page.click("main form button:has-text('检查文件')")
        refused = page.inner_text("#bulk-refused")
        assert "号码格式错误" in refused and "不在注册客户名单中" in refused
        screenshot(page, "portal-bulk-send-refused-rows")
        page.click("button:has-text('确认发送给 2 个号码')")
        page.wait_for_selector("#send-progress")
        assert SendRequest.objects.get().accepted_count == 2
        page.click("#progress-refresh")
        assert page.get_attribute("#progress-bar", "max") == "2"
    finally:
        context.close()
