"""Import and export of the enterprise file (django-import-export).

The registered-recipient import is all-or-nothing: every row is checked (number,
duplicate in the file or already registered, consent), every problem is reported with
its row number, and nothing is written unless every row is good. It is built for lists
of tens of thousands of numbers: one query loads the numbers already registered, rows
are inserted in bulk, and no per-row query is made.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from core import clock
from core.phone import normalize_mobile

from .models import Contact, Enterprise, RegisteredRecipient

# Column headers accepted in an uploaded file, mapped to the canonical (Chinese) header.
RECIPIENT_HEADER_ALIASES = {
    "msisdn": "手机号码",
    "mobile": "手机号码",
    "phone": "手机号码",
    "号码": "手机号码",
    "name": "姓名",
    "group": "分组",
    "group_label": "分组",
    "consent_source": "同意方式",
    "consent": "同意方式",
    "consented_at": "同意时间",
    "consent_time": "同意时间",
    "credit_code": "统一社会信用代码",
    "enterprise": "统一社会信用代码",
}

_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d",
    "%Y/%m/%d",
)


class MobileWidget(widgets.CharWidget):
    """A mainland mobile number, normalised to 11 digits or refused with the reason."""

    def clean(self, value, row=None, **kwargs):
        if value is None or str(value).strip() == "":
            raise ValueError(_("手机号码不能为空"))
        if isinstance(value, float) and value.is_integer():
            value = str(int(value))
        try:
            return normalize_mobile(str(value))
        except ValidationError as exc:
            raise ValueError(exc.messages[0]) from exc


class LocalDateTimeWidget(widgets.Widget):
    """A date-time in the usual spreadsheet forms, read as Asia/Shanghai local time."""

    def clean(self, value, row=None, **kwargs):
        if value is None or str(value).strip() == "":
            return None
        if isinstance(value, dt.datetime):
            parsed = value
        elif isinstance(value, dt.date):
            parsed = dt.datetime.combine(value, dt.time())
        else:
            text = str(value).strip()
            for fmt in _DATETIME_FORMATS:
                try:
                    parsed = dt.datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            else:
                raise ValueError(
                    _("无法识别的时间“%(value)s”，请用 2026-01-31 09:30:00 格式") % {"value": text}
                )
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
        return parsed

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


class RegisteredRecipientResource(resources.ModelResource):
    """Registered recipients (注册客户名单) in and out, with Chinese column headers.

    Pass `enterprise` to import into one enterprise (the portal does, and the column for
    the credit code is then ignored); otherwise each row names its enterprise by credit
    code, limited to `enterprises` (the enterprises the importing manager may edit).
    """

    enterprise = fields.Field(
        attribute="enterprise",
        column_name="统一社会信用代码",
        widget=widgets.ForeignKeyWidget(Enterprise, field="credit_code"),
    )
    msisdn = fields.Field(attribute="msisdn", column_name="手机号码", widget=MobileWidget())
    name = fields.Field(attribute="name", column_name="姓名", widget=widgets.CharWidget())
    group_label = fields.Field(
        attribute="group_label", column_name="分组", widget=widgets.CharWidget()
    )
    consent_source = fields.Field(
        attribute="consent_source", column_name="同意方式", widget=widgets.CharWidget()
    )
    consented_at = fields.Field(
        attribute="consented_at", column_name="同意时间", widget=LocalDateTimeWidget()
    )
    opted_out_at = fields.Field(
        attribute="opted_out_at",
        column_name="退订时间",
        widget=LocalDateTimeWidget(),
        readonly=True,
    )

    class Meta:
        model = RegisteredRecipient
        fields = (
            "enterprise",
            "msisdn",
            "name",
            "group_label",
            "consent_source",
            "consented_at",
            "opted_out_at",
        )
        import_id_fields = ()
        force_init_instance = True
        use_bulk = True
        batch_size = 2000
        skip_diff = True
        skip_html_diff = True
        clean_model_instances = False
        report_skipped = False

    def __init__(self, *, enterprise: Enterprise | None = None, enterprises=None, **kwargs):
        super().__init__(**kwargs)
        self.fixed_enterprise = enterprise
        self.allowed_enterprises = enterprises
        self._seen: set[tuple[int, str]] = set()
        self._registered: set[tuple[int, str]] = set()
        self._by_credit_code: dict[str, Enterprise] = {}

    def before_import(self, dataset, **kwargs):
        """Map header aliases, then load the enterprises and their registered numbers once."""
        dataset.headers = [
            RECIPIENT_HEADER_ALIASES.get(str(h).strip().lower(), str(h).strip())
            for h in dataset.headers
        ]
        if self.fixed_enterprise is not None:
            if "统一社会信用代码" in dataset.headers:
                del dataset["统一社会信用代码"]
            enterprise_ids = [self.fixed_enterprise.pk]
        else:
            queryset = (
                self.allowed_enterprises
                if self.allowed_enterprises is not None
                else Enterprise.objects.all()
            )
            self._by_credit_code = {e.credit_code: e for e in queryset.exclude(credit_code="")}
            enterprise_ids = [e.pk for e in self._by_credit_code.values()]
        self._seen = set()
        self._registered = set(
            RegisteredRecipient.objects.filter(enterprise_id__in=enterprise_ids).values_list(
                "enterprise_id", "msisdn"
            )
        )

    def get_import_fields(self):
        fields_ = super().get_import_fields()
        if self.fixed_enterprise is not None:
            fields_ = [f for f in fields_ if f.attribute != "enterprise"]
        return fields_

    def import_instance(self, instance, row, **kwargs):
        """Fill the row's fields, collecting every problem of the row into one ValidationError."""
        errors: dict[str, list[str]] = {}
        if self.fixed_enterprise is not None:
            instance.enterprise = self.fixed_enterprise
        else:
            code = str(row.get("统一社会信用代码") or "").strip().upper()
            enterprise = self._by_credit_code.get(code)
            if enterprise is None:
                errors["enterprise"] = [
                    _("统一社会信用代码“%(code)s”不是您可管理的集团客户") % {"code": code}
                ]
            else:
                instance.enterprise = enterprise
        for field in self.get_import_fields():
            if field.attribute == "enterprise":
                continue
            try:
                self.import_field(field, instance, row, **kwargs)
            except ValueError as exc:
                errors.setdefault(field.attribute, []).append(str(exc))
        if not (instance.consent_source or "").strip():
            errors.setdefault("consent_source", []).append(
                _("缺少同意方式（第4条：须经接收人同意）")
            )
        if instance.consented_at is None and "consented_at" not in errors:
            errors.setdefault("consented_at", []).append(_("缺少同意时间"))
        if "msisdn" not in errors and "enterprise" not in errors:
            key = (instance.enterprise_id, instance.msisdn)
            if key in self._seen:
                errors["msisdn"] = [_("号码在文件中重复")]
            elif key in self._registered:
                errors["msisdn"] = [_("号码已在注册客户名单中")]
            self._seen.add(key)
        if errors:
            raise ValidationError(errors)
        instance.created_at = clock.now()


class EnterpriseResource(resources.ModelResource):
    """The enterprise file for export and bulk maintenance, keyed by credit code."""

    account_manager = fields.Field(
        attribute="account_manager",
        column_name="客户经理",
        widget=widgets.ForeignKeyWidget("core.User", field="username"),
    )

    class Meta:
        model = Enterprise
        import_id_fields = ("credit_code",)
        fields = (
            "name",
            "credit_code",
            "brands",
            "province",
            "city",
            "address",
            "industry",
            "grade",
            "account_manager",
            "payment_method",
            "bank_name",
            "bank_account_name",
            "good_credit",
            "notes",
        )
        export_order = fields
        skip_unchanged = True
        clean_model_instances = True


class ContactResource(resources.ModelResource):
    """Contacts for export."""

    enterprise = fields.Field(
        attribute="enterprise",
        column_name="统一社会信用代码",
        widget=widgets.ForeignKeyWidget(Enterprise, field="credit_code"),
    )

    class Meta:
        model = Contact
        fields = ("enterprise", "name", "role", "mobile", "email", "is_primary")
        import_id_fields = ("enterprise", "mobile")
        clean_model_instances = True
