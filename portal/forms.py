"""Portal forms: input validation at the edge; the services decide the rules."""

import datetime as dt
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import clock
from core.phone import normalize_mobile
from core.roles import Role
from product_lifecycle.models import CmppVersion
from product_lifecycle.selectors import launched_offerings

CONSENT_SOURCES = [
    ("纸质登记表（本人签字）", _("纸质登记表（本人签字）")),
    ("网站/APP 勾选同意", _("网站/APP 勾选同意")),
    ("短信回复确认", _("短信回复确认")),
    ("劳动合同/员工登记", _("劳动合同/员工登记")),
]


class RecipientForm(forms.Form):
    """One registered recipient with the consent it was given (第4条)."""

    msisdn = forms.CharField(label=_("手机号码"), max_length=20)
    name = forms.CharField(label=_("姓名"), max_length=60, required=False)
    group_label = forms.CharField(label=_("分组"), max_length=60, required=False)
    consent_source = forms.ChoiceField(label=_("同意方式"), choices=CONSENT_SOURCES)
    consented_at = forms.DateTimeField(
        label=_("同意时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean_msisdn(self):
        return normalize_mobile(self.cleaned_data["msisdn"])

    def clean_consented_at(self):
        value = self.cleaned_data["consented_at"]
        if value > clock.now():
            raise ValidationError(_("同意时间不能晚于现在"))
        return value


class RecipientImportForm(forms.Form):
    """A CSV or XLSX file of recipients (columns: 手机号码, 姓名, 分组, 同意方式, 同意时间)."""

    file = forms.FileField(label=_("文件（CSV 或 XLSX）"))

    MAX_BYTES = 20 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith((".csv", ".xlsx")):
            raise ValidationError(_("只支持 CSV 或 XLSX 文件"))
        if upload.size > self.MAX_BYTES:
            raise ValidationError(_("文件不能超过 20 MB"))
        return upload


class SignatureRequestForm(forms.Form):
    text = forms.CharField(
        label=_("签名"),
        max_length=22,
        help_text=_("全角【】括起的2至20个字符，须与企业名称或品牌相符，如【豫信物流】"),
    )


class ChangeRequestForm(forms.Form):
    """A change of a subscription (第11条): it becomes a fulfillment order."""

    ACTIONS = [
        ("modify", _("变更（套餐、协议版本、接入地址）")),
        ("suspend", _("暂停")),
        ("resume", _("恢复")),
        ("delete", _("终止（退订）")),
    ]
    action = forms.ChoiceField(label=_("申请类型"), choices=ACTIONS)
    offering = forms.ModelChoiceField(
        label=_("新套餐"), queryset=launched_offerings(), required=False, empty_label=_("不变")
    )
    cmpp_version = forms.ChoiceField(
        label=_("CMPP 版本"), choices=[("", _("不变")), *CmppVersion.choices], required=False
    )
    access_ip = forms.GenericIPAddressField(label=_("新接入地址（IP）"), required=False)
    effective_date = forms.DateField(
        label=_("生效日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    description = forms.CharField(
        label=_("说明"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=500
    )

    def clean(self):
        data = super().clean()
        if data.get("action") == "modify" and not (
            data.get("offering") or data.get("cmpp_version") or data.get("access_ip")
        ):
            raise ValidationError(_("变更申请请至少填写一项变更内容"))
        return data

    def requested_start_at(self) -> dt.datetime:
        """The effective date as the start of that day in Asia/Shanghai."""
        day = self.cleaned_data["effective_date"]
        return timezone.make_aware(dt.datetime.combine(day, dt.time(0, 0)))


class EnterpriseUserForm(forms.Form):
    """A new portal user of the enterprise, created by its administrator."""

    username = forms.SlugField(label=_("用户名"), max_length=40)
    display_name = forms.CharField(label=_("姓名"), max_length=60)
    email = forms.EmailField(label=_("电子邮箱"), help_text=_("用于找回密码"))
    mobile = forms.CharField(label=_("手机号码"), max_length=20, required=False)
    role = forms.ChoiceField(
        label=_("角色"),
        choices=[
            (Role.ENTERPRISE_OPERATOR.value, Role.ENTERPRISE_OPERATOR.label),
            (Role.ENTERPRISE_ADMIN.value, Role.ENTERPRISE_ADMIN.label),
        ],
    )
    password = forms.CharField(
        label=_("初始密码"),
        widget=forms.PasswordInput,
        min_length=8,
        help_text=_("请通知用户首次登录后修改"),
    )

    def clean_mobile(self):
        value = self.cleaned_data["mobile"]
        return normalize_mobile(value) if value else ""

    def clean_password(self):
        from django.contrib.auth.password_validation import validate_password

        password = self.cleaned_data["password"]
        validate_password(password)
        return password

    def clean_role(self):
        return Role(self.cleaned_data["role"])


class ApiKeyForm(forms.Form):
    """A new API key for one of the enterprise's users, acting in one of its roles."""

    name = forms.CharField(
        label=_("用途"), max_length=100, help_text=_("如“订单系统发送通知”，便于日后识别与吊销")
    )
    user = forms.ModelChoiceField(
        label=_("代表用户"),
        queryset=None,
        help_text=_("接口调用以该用户的身份记录；用户停用后令牌随之失效"),
    )
    role = forms.ChoiceField(
        label=_("角色"),
        choices=[
            (Role.ENTERPRISE_OPERATOR.value, Role.ENTERPRISE_OPERATOR.label),
            (Role.ENTERPRISE_ADMIN.value, Role.ENTERPRISE_ADMIN.label),
        ],
        help_text=_("操作员令牌只能发送和查询；管理员令牌还能管理名单"),
    )
    expires_on = forms.DateField(
        label=_("到期日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("留空表示长期有效；到期当日零点起失效"),
    )

    def __init__(self, *args, enterprise, **kwargs):
        super().__init__(*args, **kwargs)
        from core.models import User

        self.fields["user"].queryset = User.objects.filter(
            membership__enterprise=enterprise, is_active=True
        ).order_by("username")

    def expires_at(self) -> dt.datetime | None:
        """The expiry date as the start of that day in Asia/Shanghai."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(dt.datetime.combine(day, dt.time(0, 0)))


_NUMBER_SEPARATORS = re.compile(r"[\s,，;；、]+")
ALL_RECIPIENTS = "__all__"


def split_numbers(text: str) -> list[str]:
    """The numbers typed into a box, one per line or separated by commas/semicolons/spaces."""
    return [part for part in _NUMBER_SEPARATORS.split(text or "") if part]


class _SubscriptionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        label = f"{obj.service_code.code} · {obj.offering.name}"
        if obj.state != "active":
            label += f"（{obj.get_state_display()}）"
        return label


class SendBaseForm(forms.Form):
    """What every send has: the service it goes out on, the text, an optional time."""

    subscription = _SubscriptionChoice(label=_("发送业务（服务代码）"), queryset=None)
    text = forms.CharField(
        label=_("短信内容"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 5, "data-sms-counter": "sms-counter"}),
        help_text=_("审核通过的签名会自动加在末尾，不必输入"),
    )
    scheduled_at = forms.DateTimeField(
        label=_("定时发送"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("留空则立即发送；最多可提前 30 天预约（北京时间）"),
    )

    def __init__(self, *args, enterprise, **kwargs):
        super().__init__(*args, **kwargs)
        from fulfillment.selectors import subscriptions_of_enterprise

        subscriptions = subscriptions_of_enterprise(enterprise.pk, states=["active", "suspended"])
        self.fields["subscription"].queryset = subscriptions.order_by("service_code__code")
        if len(self.fields["subscription"].queryset) == 1:
            self.fields["subscription"].initial = self.fields["subscription"].queryset[0].pk

    def clean_scheduled_at(self):
        value = self.cleaned_data.get("scheduled_at")
        if value is not None and value <= clock.now():
            raise ValidationError(_("定时发送时间须晚于现在"))
        return value


class SendForm(SendBaseForm):
    """A message to typed-in numbers or to a recipient group (exactly one of the two)."""

    recipients = forms.CharField(
        label=_("接收号码"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一个，或用逗号、空格分隔；只能发送给注册客户名单中的号码"),
    )
    group = forms.ChoiceField(label=_("或发送给分组"), required=False)

    field_order = ["subscription", "recipients", "group", "text", "scheduled_at"]

    def __init__(self, *args, enterprise, groups: list[str], **kwargs):
        super().__init__(*args, enterprise=enterprise, **kwargs)
        self.fields["group"].choices = [
            ("", _("不按分组")),
            (ALL_RECIPIENTS, _("全部可发送号码")),
            *[(g, g) for g in groups],
        ]

    def clean(self):
        data = super().clean()
        numbers = split_numbers(data.get("recipients", ""))
        if numbers and data.get("group"):
            raise ValidationError(_("请填写接收号码或选择分组，二者只选其一"))
        if not numbers and not data.get("group"):
            raise ValidationError(_("请填写接收号码或选择分组"))
        data["numbers"] = numbers
        return data


class BulkSendForm(SendBaseForm):
    """A campaign to the numbers of an uploaded CSV/XLSX (first column, or 手机号码)."""

    file = forms.FileField(
        label=_("号码文件（CSV 或 XLSX）"),
        help_text=_("第一列为手机号码（可有表头“手机号码”）；上传后先预览被拒绝的行，确认后才发送"),
    )
    field_order = ["subscription", "file", "text", "scheduled_at"]

    MAX_BYTES = 20 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise ValidationError(_("只支持 CSV 或 XLSX 文件"))
        if upload.size > self.MAX_BYTES:
            raise ValidationError(_("文件不能超过 20 MB"))
        return upload


class ReplySearchForm(forms.Form):
    """Filters of the replies inbox (all optional)."""

    msisdn = forms.CharField(label=_("手机号码"), required=False, max_length=20)
    date_from = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError(_("起始日期不能晚于截止日期"))
        return data


class MessageSearchForm(ReplySearchForm):
    """Filters of the message list (all optional)."""

    state = forms.ChoiceField(label=_("状态"), required=False)

    def __init__(self, *args, states, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("全部")), *states]


class WebhookForm(forms.Form):
    """Where the enterprise's application receives delivery reports and replies."""

    url = forms.URLField(
        label=_("回调地址"),
        max_length=300,
        assume_scheme="https",
        help_text=_("贵企业应用接收推送的 http(s) 地址，如 https://app.example.cn/mas/callback"),
    )
    send_reports = forms.BooleanField(label=_("推送状态报告"), required=False, initial=True)
    send_replies = forms.BooleanField(label=_("推送上行短信（回复）"), required=False, initial=True)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)
    rotate_secret = forms.BooleanField(
        label=_("重新生成签名密钥"),
        required=False,
        help_text=_("旧密钥立即失效；新密钥只显示一次"),
    )


TICKET_TYPES = [
    ("connectivity", _("无法连接（链路中断、登录失败）")),
    ("delivery", _("发送失败或状态报告异常")),
    ("mo", _("收不到上行回复")),
    ("performance", _("发送缓慢、速率不足")),
    ("other", _("其他问题")),
]
TICKET_SEVERITIES = [
    ("critical", _("紧急：业务完全中断")),
    ("major", _("严重：部分业务受影响")),
    ("minor", _("一般：个别现象")),
]


class TicketForm(forms.Form):
    """A fault report from the portal: which service, what happens, how bad."""

    subscription = forms.ChoiceField(label=_("受影响的服务代码"))
    ticket_type = forms.ChoiceField(label=_("故障现象"), choices=TICKET_TYPES)
    severity = forms.ChoiceField(label=_("影响程度"), choices=TICKET_SEVERITIES)
    name = forms.CharField(label=_("标题"), max_length=100)
    description = forms.CharField(
        label=_("详细描述"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=4000,
        help_text=_("请说明开始时间、现象、已做的检查；请勿填写短信内容或客户号码。"),
    )
    contact = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    attachment = forms.FileField(label=_("附件（截图、日志）"), required=False)

    def __init__(self, *args, subscriptions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subscription"].choices = [
            (str(s.pk), f"{s.service_code.code}（{s.get_state_display()}）") for s in subscriptions
        ]


class TicketNoteForm(forms.Form):
    """A note from the enterprise (always visible to both sides)."""

    text = forms.CharField(
        label=_("补充说明"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )


class TicketRejectForm(forms.Form):
    """Why the enterprise does not accept the resolution."""

    reason = forms.CharField(
        label=_("故障仍然存在的情况"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
