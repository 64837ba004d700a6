"""The registered-recipient import: all or nothing, with a row-by-row report."""

import io
import time

import pytest
import tablib
from openpyxl import Workbook

from customers import services
from customers.models import RegisteredRecipient
from tests.customers.factories import EnterpriseFactory, RegisteredRecipientFactory

pytestmark = pytest.mark.django_db

HEADERS = ["手机号码", "姓名", "分组", "同意方式", "同意时间"]


def _dataset(rows, headers=HEADERS):
    return tablib.Dataset(*rows, headers=headers)


def test_a_good_file_imports_every_row(manager):
    enterprise = EnterpriseFactory(account_manager=manager)
    result = services.recipients_import(
        dataset=_dataset(
            [
                ["13800138000", "张三", "员工", "纸质登记表", "2026-01-05 09:00:00"],
                ["+86 139 0000 0001", "李四", "VIP", "短信回复Y", "2026-01-06"],
            ]
        ),
        enterprise=enterprise,
    )
    assert not result.has_errors() and not result.has_validation_errors()
    assert set(enterprise.recipients.values_list("msisdn", flat=True)) == {
        "13800138000",
        "13900000001",
    }


def test_english_headers_are_accepted(manager):
    enterprise = EnterpriseFactory()
    dataset = _dataset(
        [["13800138000", "张三", "员工", "web", "2026-01-05 09:00"]],
        headers=["msisdn", "name", "group", "consent_source", "consented_at"],
    )
    result = services.recipients_import(dataset=dataset, enterprise=enterprise)
    assert not result.has_validation_errors()
    assert enterprise.recipients.get().consent_source == "web"


def test_bad_rows_are_reported_row_by_row_and_nothing_is_written():
    enterprise = EnterpriseFactory()
    RegisteredRecipientFactory(enterprise=enterprise, msisdn="13700000000")
    dataset = _dataset(
        [
            ["13800138000", "好", "员工", "纸质", "2026-01-05"],  # row 1: good
            ["12345", "坏号码", "员工", "纸质", "2026-01-05"],  # row 2: bad number
            ["13800138000", "重复", "员工", "纸质", "2026-01-05"],  # row 3: duplicate in file
            ["13700000000", "已登记", "员工", "纸质", "2026-01-05"],  # row 4: already registered
            ["13900000009", "无同意", "员工", "", ""],  # row 5: missing consent
            ["13900000010", "坏时间", "员工", "纸质", "昨天"],  # row 6: bad time
        ]
    )
    result = services.recipients_import(dataset=dataset, enterprise=enterprise)

    report = services.recipient_import_report(result)
    by_row = {}
    for item in report:
        by_row.setdefault(item["row"], []).append(item["message"])
    assert set(by_row) == {2, 3, 4, 5, 6}
    assert "不是" in by_row[2][0]
    assert by_row[3] == ["号码在文件中重复"]
    assert by_row[4] == ["号码已在注册客户名单中"]
    assert any("同意方式" in m for m in by_row[5]) and any("同意时间" in m for m in by_row[5])
    assert "无法识别的时间" in by_row[6][0]
    assert list(RegisteredRecipient.objects.values_list("msisdn", flat=True)) == ["13700000000"]


def test_a_manager_imports_only_into_their_own_enterprises(manager, other_manager):
    mine = EnterpriseFactory(account_manager=manager)
    theirs = EnterpriseFactory(account_manager=other_manager)
    dataset = _dataset(
        [
            ["13800138000", "甲", "", "纸质", "2026-01-05", mine.credit_code],
            ["13800138001", "乙", "", "纸质", "2026-01-05", theirs.credit_code],
        ],
        headers=[*HEADERS, "统一社会信用代码"],
    )
    from customers.selectors import enterprises_visible_to

    result = services.recipients_import(
        dataset=dataset, enterprises=enterprises_visible_to(manager)
    )
    report = services.recipient_import_report(result)
    assert [item["row"] for item in report] == [2]
    assert not RegisteredRecipient.objects.exists()


def test_an_xlsx_upload_in_the_admin_imports_after_confirmation(client, manager):
    enterprise = EnterpriseFactory(account_manager=manager)
    book = Workbook()
    sheet = book.active
    sheet.append([*HEADERS, "统一社会信用代码"])
    sheet.append(
        [13800138000, "张三", "员工", "纸质登记表", "2026-01-05 09:00:00", enterprise.credit_code]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "recipients.xlsx"
    client.force_login(manager)

    response = client.post(
        "/admin/customers/registeredrecipient/import/",
        {"import_file": buffer, "format": "1", "resource": "0"},
    )
    assert response.status_code == 200, response.content[:500]
    confirm = response.context["confirm_form"]
    assert confirm is not None, "a valid file offers the confirmation step"
    assert not RegisteredRecipient.objects.exists()
    response = client.post("/admin/customers/registeredrecipient/process_import/", confirm.initial)
    assert response.status_code == 302
    assert enterprise.recipients.get().msisdn == "13800138000"


@pytest.mark.slow
def test_fifty_thousand_rows_import_in_one_go(manager, capsys):
    enterprise = EnterpriseFactory(account_manager=manager)
    rows = [
        [f"139{n:08d}", f"接收人{n}", "员工", "纸质登记表", "2026-01-05 09:00:00"]
        for n in range(50_000)
    ]
    started = time.perf_counter()
    result = services.recipients_import(dataset=_dataset(rows), enterprise=enterprise)
    elapsed = time.perf_counter() - started
    assert not result.has_errors() and not result.has_validation_errors()
    assert enterprise.recipients.count() == 50_000
    with capsys.disabled():
        print(f"\n50,000-row recipient import: {elapsed:.1f} s")


@pytest.mark.slow
def test_one_bad_row_in_fifty_thousand_writes_nothing(manager):
    enterprise = EnterpriseFactory(account_manager=manager)
    rows = [[f"139{n:08d}", "", "", "纸质登记表", "2026-01-05"] for n in range(50_000)]
    rows[49_999][0] = "1390000000"  # ten digits
    result = services.recipients_import(dataset=_dataset(rows), enterprise=enterprise)
    assert [item["row"] for item in services.recipient_import_report(result)] == [50_000]
    assert not RegisteredRecipient.objects.exists()
