"""The inventory: code blocks and their import, MAS servers and ports, retiring, counts."""

import pytest
import tablib
from django.core.exceptions import ValidationError
from django_fsm import TransitionNotAllowed

from fulfillment import selectors, services
from fulfillment.models import MasPort, ServiceCode, ServiceCodeBlock
from tests.fulfillment.factories import active_subscription, code_block, inventory, mas_server

pytestmark = pytest.mark.django_db

HEADERS = ["起始代码", "结束代码", "扩展位数", "省份", "备注"]


def test_a_block_creates_its_codes_all_available():
    block = services.service_code_block_add(
        first_code="10690371000",
        last_code="10690371009",
        extension_digits=6,
        province="41",
        by=None,
    )
    codes = ServiceCode.objects.filter(block=block).order_by("code")
    assert codes.count() == 10 == block.size
    assert codes.first().code == "10690371000" and codes.last().code == "10690371009"
    assert set(codes.values_list("state", flat=True)) == {"available"}
    assert codes.first().extension_range == "10690371000 + 000000–999999"


@pytest.mark.parametrize(
    ("first", "last", "extension", "field"),
    [
        ("10660371000", "10660371009", 4, "first_code"),  # 1066 is not a group-customer code
        ("10690371000", "1069037100", 4, "last_code"),  # different lengths
        ("10690371009", "10690371000", 4, "last_code"),  # reversed
        ("10690371000", "10690381000", 4, "last_code"),  # more than 10,000 codes
        ("10690371000", "10690371009", 10, "extension_digits"),  # 11 + 10 > 20 digits
    ],
)
def test_bad_blocks_are_refused_naming_the_field(first, last, extension, field):
    with pytest.raises(ValidationError) as refused:
        services.service_code_block_add(
            first_code=first, last_code=last, extension_digits=extension, province="41", by=None
        )
    assert field in refused.value.message_dict
    assert not ServiceCode.objects.exists()


def test_a_block_overlapping_the_pool_is_refused():
    code_block(first="10690371000", size=10)
    with pytest.raises(ValidationError) as refused:
        code_block(first="10690371005", size=10)
    assert "10690371005" in str(refused.value)
    code_block(first="106903710005", size=10)  # a longer code is another number


def test_a_good_file_of_blocks_imports_every_row():
    dataset = tablib.Dataset(
        ["10690371000", "10690371099", 6, "41", "郑州"],
        [10690379000.0, 10690379049.0, 6, "河南省", "洛阳"],
        headers=HEADERS,
    )
    result = services.service_code_blocks_import(dataset=dataset)
    assert services.import_report(result) == []
    assert ServiceCodeBlock.objects.count() == 2
    assert ServiceCode.objects.count() == 150
    assert set(ServiceCode.objects.values_list("province", flat=True)) == {"41"}


def test_a_file_with_bad_rows_is_reported_row_by_row_and_nothing_is_written():
    code_block(first="10690375000", size=5)
    dataset = tablib.Dataset(
        ["10690371000", "10690371099", 6, "41", "好"],  # row 1: good
        ["10690371050", "10690371150", 6, "41", "与第1行重叠"],  # row 2
        ["10690375003", "10690375010", 6, "41", "与号码池重叠"],  # row 3
        ["10620371000", "10620371009", 6, "41", "不是1069"],  # row 4
        ["10690376000", "10690376009", 6, "火星", "省份不对"],  # row 5
        headers=HEADERS,
    )
    result = services.service_code_blocks_import(dataset=dataset)
    report = services.import_report(result)
    assert {(line["row"], line["field"]) for line in report} == {
        (2, "first_code"),
        (3, "first_code"),
        (4, "first_code"),
        (4, "last_code"),
        (5, "province"),
    }
    assert "第 1 行" in next(line["message"] for line in report if line["row"] == 2)
    assert ServiceCodeBlock.objects.count() == 1
    assert ServiceCode.objects.count() == 5


def test_english_headers_are_accepted():
    dataset = tablib.Dataset(
        ["10690371000", "10690371004", 4, "41", ""],
        headers=["first_code", "last_code", "extension_digits", "province", "note"],
    )
    result = services.service_code_blocks_import(dataset=dataset)
    assert not result.has_validation_errors()
    assert ServiceCode.objects.count() == 5


def test_a_server_cannot_get_more_ports_than_its_capacity():
    server = services.mas_server_create(
        name="郑州MAS-09", location="郑州市", capacity=4, ports=3, by=None
    )
    assert list(server.ports.values_list("number", flat=True)) == [1, 2, 3]
    assert server.ismg_address == "127.0.0.1:7890"
    with pytest.raises(ValidationError):
        services.mas_server_add_ports(server_id=server.pk, count=2, by=None)
    services.mas_server_add_ports(server_id=server.pk, count=1, by=None)
    assert server.ports.count() == 4


def test_only_free_or_quarantined_codes_and_free_ports_can_be_retired(clock, manager):
    subscription = active_subscription(manager)
    with pytest.raises(TransitionNotAllowed):
        services.service_code_retire(
            code_id=subscription.service_code_id, by=manager, reason="收回"
        )
    with pytest.raises(TransitionNotAllowed):
        services.mas_port_retire(port_id=subscription.port_id, by=manager, reason="故障")
    free_code = ServiceCode.objects.filter(state="available").first()
    services.service_code_retire(code_id=free_code.pk, by=manager, reason="工信部收回")
    free_code.refresh_from_db()
    assert free_code.state == ServiceCode.State.RETIRED

    services.subscription_terminate(subscription_id=subscription.pk, by=manager, reason="拆机")
    services.service_code_retire(code_id=subscription.service_code_id, by=manager, reason="收回")
    free_port = MasPort.objects.get(pk=subscription.port_id)
    services.mas_port_retire(port_id=free_port.pk, by=manager, reason="板卡故障")
    assert ServiceCode.objects.filter(state="retired").count() == 2
    assert MasPort.objects.filter(state="retired").count() == 1


def test_utilisation_counts_codes_and_ports_per_state(clock, manager):
    code_block(size=4)
    server = mas_server(ports=3)
    active_subscription(manager)
    assert selectors.code_counts() == {
        "available": 3,
        "reserved": 0,
        "assigned": 1,
        "quarantined": 0,
        "retired": 0,
        "total": 4,
    }
    assert selectors.port_counts()["assigned"] == 1
    row = selectors.servers_with_utilisation().get(pk=server.pk)
    assert (row.n_ports, row.n_available, row.n_assigned) == (3, 2, 1)


def test_inventory_factory_defaults_work(clock):
    block, server = inventory(codes=2, ports=2)
    assert block.codes.count() == 2 and server.ports.count() == 2
