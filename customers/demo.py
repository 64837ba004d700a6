"""Demo data for the enterprise file, built through the services (run by `seed_demo`)."""

import datetime as dt

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from core.models import User
from core.roles import Role

from . import services
from .credit_code import make_credit_code
from .models import ApiToken, Enterprise, EnterpriseMembership, Signature

DEMO_PASSWORD = "Demo@2026"
# Known API tokens for the demo only (so seed_demo can print them on every run); real
# tokens are random and shown once (customers.services.api_token_issue).
DEMO_TOKENS = (
    ("head", Role.DEPARTMENT_HEAD, None, "mas_demo-head-0000-tmf-apis-department-head"),
    ("manager", Role.CUSTOMER_MANAGER, None, "mas_demo-manager-000-tmf-apis-customer-manager"),
    ("ent_admin", Role.ENTERPRISE_ADMIN, "parent", "mas_demo-enterprise-tmf-apis-yuxin-logistics"),
)

STAFF_USERS = (
    ("head", "赵建国", Role.DEPARTMENT_HEAD),
    ("manager", "王丽娟", Role.CUSTOMER_MANAGER),
    ("manager2", "李志强", Role.CUSTOMER_MANAGER),
    ("noc", "陈晓东", Role.NOC_ENGINEER),
    ("finance", "刘芳", Role.FINANCE),
)

# name, region code, city, industry, grade, brand, signature, contact, title, mobile, manager
ENTERPRISES = (
    (
        "郑州豫信物流有限公司",
        "410100",
        "郑州市",
        "logistics",
        "A",
        "豫信物流",
        "【豫信物流】",
        "张伟",
        "信息部经理",
        "13803710001",
        "manager",
    ),
    (
        "河南中原智联科技有限公司",
        "410100",
        "郑州市",
        "services",
        "A",
        "中原智联",
        "【中原智联】",
        "孙敏",
        "运营总监",
        "13903710002",
        "manager",
    ),
    (
        "洛阳牡丹城商贸有限公司",
        "410300",
        "洛阳市",
        "retail",
        "B",
        "牡丹城",
        "【牡丹城商贸】",
        "周磊",
        "客服主管",
        "13503790003",
        "manager",
    ),
    (
        "开封宋都文化旅游集团有限公司",
        "410200",
        "开封市",
        "services",
        "B",
        "宋都文旅",
        "【宋都文旅】",
        "吴静",
        "市场部主任",
        "13703780004",
        "manager",
    ),
    (
        "新乡豫北医疗器械股份有限公司",
        "410700",
        "新乡市",
        "healthcare",
        "B",
        "豫北医疗",
        "【豫北医疗】",
        "郑浩",
        "行政经理",
        "15803730005",
        "manager2",
    ),
    (
        "许昌瑞祥发制品有限公司",
        "411000",
        "许昌市",
        "manufacturing",
        "C",
        "瑞祥",
        "【瑞祥发制品】",
        "冯雪",
        "办公室主任",
        "15903740006",
        "manager2",
    ),
    (
        "南阳卧龙农业发展有限公司",
        "411300",
        "南阳市",
        "agriculture",
        "C",
        "卧龙农业",
        "【卧龙农业】",
        "褚亮",
        "总经理助理",
        "18603770007",
        "manager2",
    ),
    (
        "安阳殷都钢铁有限责任公司",
        "410500",
        "安阳市",
        "manufacturing",
        "A",
        "殷都钢铁",
        "【殷都钢铁】",
        "卫东",
        "信息中心主任",
        "18703720008",
        "manager2",
    ),
    (
        "平顶山鹰城能源有限公司",
        "410400",
        "平顶山市",
        "energy",
        "B",
        "鹰城能源",
        "【鹰城能源】",
        "蒋红",
        "调度室主任",
        "13603750009",
        "manager",
    ),
    (
        "焦作怀川教育集团有限公司",
        "410800",
        "焦作市",
        "education",
        "B",
        "怀川教育",
        "【怀川教育】",
        "沈洁",
        "教务处长",
        "13783910010",
        "manager2",
    ),
    (
        "信阳茶都农产品有限公司",
        "411500",
        "信阳市",
        "agriculture",
        "C",
        "茶都",
        "【信阳茶都】",
        "韩冰",
        "销售经理",
        "13837610011",
        "manager",
    ),
    (
        "郑州东区智慧城市运营有限公司",
        "410100",
        "郑州市",
        "government",
        "A",
        "智慧东区",
        "【智慧东区】",
        "杨帆",
        "综合部部长",
        "13938510012",
        "manager",
    ),
)
BRANCH = (
    "郑州豫信物流有限公司洛阳分公司",
    "410300",
    "洛阳市",
    "【豫信物流】",
    "朱琳",
    "分公司经理",
    "13523790013",
)


def _user(username: str, display_name: str, role: Role, *, staff: bool) -> User:
    user, created = User.objects.get_or_create(
        username=username, defaults={"display_name": display_name, "is_staff": staff}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.email = f"{username}@mas.example.cn"
        user.save()
    user.groups.add(Group.objects.get(name=role.value))
    return user


def _recipients(enterprise: Enterprise, prefix: str, count: int, manager: User) -> None:
    if enterprise.recipients.exists():
        return
    consent_at = timezone.make_aware(dt.datetime(2026, 1, 5, 9, 0))
    groups = ("员工", "VIP客户", "普通客户")
    for index in range(count):
        services.recipient_add(
            enterprise_id=enterprise.pk,
            msisdn=f"{prefix}{index:04d}",
            name=f"接收人{index + 1:02d}",
            group_label=groups[index % 3],
            consent_source="纸质登记表（经办人签字）",
            consented_at=consent_at,
            by=manager,
        )


def _enterprise(row, serial: int, managers: dict[str, User]) -> Enterprise:
    name, region, city, industry, grade, brand, signature, contact, title, mobile, manager_key = row
    manager = managers[manager_key]
    credit_code = make_credit_code(region=region, serial=41000000 + serial)
    enterprise = Enterprise.objects.filter(credit_code=credit_code).first()
    if enterprise is None:
        enterprise = services.enterprise_create(
            by=manager,
            name=name,
            credit_code=credit_code,
            brands=brand,
            city=city,
            address=f"{city}示范路{serial}号",
            industry=industry,
            grade=grade,
            account_manager=manager,
            good_credit=grade == "A",
        )
        primary = services.contact_save(
            enterprise_id=enterprise.pk,
            by=manager,
            name=contact,
            role=title,
            mobile=mobile,
            email=f"contact{serial}@example.cn",
            is_primary=True,
        )
        services.enterprise_update(enterprise_id=enterprise.pk, by=manager, billing_contact=primary)
        services.enterprise_activate(
            enterprise_id=enterprise.pk, by=manager, reason="演示数据：签约入网"
        )
    if not enterprise.signatures.exists():
        submitted = services.signature_submit(
            enterprise_id=enterprise.pk, text=signature, by=manager
        )
        services.signature_approve(
            signature_id=submitted.pk, by=managers["head"], evidence="营业执照核验"
        )
    _recipients(enterprise, f"139{serial:02d}37", 20, manager)
    return enterprise


@transaction.atomic
def seed() -> list[str]:
    """Create or top up the demo enterprises and users; returns lines to print."""
    managers = {key: _user(key, name, role, staff=True) for key, name, role in STAFF_USERS}
    admin = User.objects.filter(username="admin").first()
    if admin is None:
        admin = User.objects.create_superuser(
            "admin", "admin@mas.example.cn", DEMO_PASSWORD, display_name="系统管理员"
        )
    enterprises = [
        _enterprise(row, serial, managers) for serial, row in enumerate(ENTERPRISES, start=1)
    ]

    parent = enterprises[0]
    name, region, city, _signature, contact, title, mobile = BRANCH
    branch = Enterprise.objects.filter(name=name).first()
    if branch is None:
        branch = services.enterprise_create(
            by=managers["manager"],
            name=name,
            city=city,
            brands="豫信物流",
            industry="logistics",
            grade="B",
            account_manager=managers["manager"],
            parent=parent,
            credit_code=make_credit_code(region=region, serial=41000100),
        )
        services.contact_save(
            enterprise_id=branch.pk,
            by=managers["manager"],
            name=contact,
            role=title,
            mobile=mobile,
            is_primary=True,
        )
        services.enterprise_activate(
            enterprise_id=branch.pk, by=managers["manager"], reason="演示数据：分公司入网"
        )
    if not Signature.objects.filter(
        enterprise=enterprises[2], state=Signature.State.SUBMITTED
    ).exists():
        services.signature_submit(
            enterprise_id=enterprises[2].pk, text="【洛阳牡丹】", by=managers["manager"]
        )

    Enterprise.objects.get_or_create(
        name="郑州绿城餐饮管理有限公司",
        defaults={
            "city": "郑州市",
            "industry": "services",
            "account_manager": managers["manager"],
            "notes": "潜在客户：已拜访两次",
        },
    )

    ent_users = []
    for username, display_name, role in (
        ("ent_admin", "张伟", Role.ENTERPRISE_ADMIN),
        ("ent_operator", "李娜", Role.ENTERPRISE_OPERATOR),
    ):
        if not User.objects.filter(username=username).exists():
            services.enterprise_user_create(
                enterprise_id=parent.pk,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                display_name=display_name,
                email=f"{username}@yuxin.example.cn",
            )
        ent_users.append(username)
    other = enterprises[1]
    if not User.objects.filter(username="ent2_admin").exists():
        services.enterprise_user_create(
            enterprise_id=other.pk,
            username="ent2_admin",
            password=DEMO_PASSWORD,
            role=Role.ENTERPRISE_ADMIN,
            display_name="孙敏",
        )
    assert EnterpriseMembership.objects.filter(
        user__username="ent_admin", enterprise=parent
    ).exists()

    token_lines = []
    for username, role, scope, secret in DEMO_TOKENS:
        if not ApiToken.objects.filter(digest=services.api_token_digest(secret)).exists():
            services.api_token_issue(
                user=User.objects.get(username=username),
                role=role,
                name="演示令牌",
                enterprise_id=parent.pk if scope == "parent" else None,
                by=None,
                secret=secret,
            )
        token_lines.append(f"  {username:<12} {secret}")

    lines = [
        f"集团客户 {Enterprise.objects.count()} 家（其中演示分公司 1 家、潜在客户 1 家）",
        f"演示账号（密码均为 {DEMO_PASSWORD}）：",
        "  admin        系统管理员（superuser）",
    ]
    lines += [f"  {key:<12} {name}（{role.label}）" for key, name, role in STAFF_USERS]
    lines += [
        f"  ent_admin    {parent.name} 企业管理员",
        f"  ent_operator {parent.name} 企业操作员",
        f"  ent2_admin   {other.name} 企业管理员",
        "TMF API 演示令牌（仅限演示；Authorization: Bearer <令牌>，如 "
        "curl -H 'Authorization: Bearer …' http://127.0.0.1:8000/tmf-api/customerManagement/v4/customer）：",
        *token_lines,
    ]
    return lines
