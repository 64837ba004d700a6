"""Import and export of the inventory (django-import-export).

Code blocks (号段) are imported all or nothing: every row is checked (both ends 1069
codes of one length, at most 10,000 codes, code plus extension at most 20 digits, a
known province, no overlap with the pool or with another row of the file), every
problem is reported with its row number, and nothing is written unless every row is
good. Each imported block creates its codes, all available.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from customers.regions import Province

from .models import MasPort, ServiceCode, ServiceCodeBlock
from .models.inventory import SERVICE_CODE_RE
from .services.inventory import block_generate_codes, block_problems

BLOCK_HEADER_ALIASES = {
    "first_code": "起始代码",
    "first": "起始代码",
    "start": "起始代码",
    "last_code": "结束代码",
    "last": "结束代码",
    "end": "结束代码",
    "extension_digits": "扩展位数",
    "extension": "扩展位数",
    "province": "省份",
    "note": "备注",
}


class ProvinceWidget(widgets.CharWidget):
    """A province by its GB/T 2260 code (41) or its name (河南省 / 河南)."""

    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        if text in Province.values:
            return text
        for code, label in Province.choices:
            if text and (text == str(label) or str(label).startswith(text)):
                return code
        raise ValueError(_("未知的省份“%(value)s”") % {"value": text})

    def render(self, value, obj=None, **kwargs):
        return dict(Province.choices).get(value, value)


class CodeWidget(widgets.CharWidget):
    """A service code; spreadsheet numbers (1069037100.0) are read as digits."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value or "").strip()


class ServiceCodeBlockResource(resources.ModelResource):
    """Code blocks in and out, with Chinese column headers (English aliases accepted)."""

    first_code = fields.Field(attribute="first_code", column_name="起始代码", widget=CodeWidget())
    last_code = fields.Field(attribute="last_code", column_name="结束代码", widget=CodeWidget())
    extension_digits = fields.Field(
        attribute="extension_digits", column_name="扩展位数", widget=widgets.IntegerWidget()
    )
    province = fields.Field(attribute="province", column_name="省份", widget=ProvinceWidget())
    note = fields.Field(attribute="note", column_name="备注", widget=widgets.CharWidget())

    class Meta:
        model = ServiceCodeBlock
        fields = ("first_code", "last_code", "extension_digits", "province", "note")
        import_id_fields = ()
        force_init_instance = True
        skip_diff = True
        clean_model_instances = False
        report_skipped = False

    def before_import(self, dataset, **kwargs):
        dataset.headers = [
            BLOCK_HEADER_ALIASES.get(str(h).strip().lower(), str(h).strip())
            for h in dataset.headers
        ]
        self._ranges: list[tuple[int, int, int, int]] = []  # (length, first, last, row)
        self._user = kwargs.get("user")

    def import_instance(self, instance, row, **kwargs):
        """Fill the row's fields and collect every problem of the row into one error."""
        errors: dict[str, list[str]] = {}
        for field in self.get_import_fields():
            try:
                self.import_field(field, instance, row, **kwargs)
            except ValueError as exc:
                errors.setdefault(field.attribute, []).append(str(exc))
        if instance.extension_digits is None and "extension_digits" not in errors:
            errors["extension_digits"] = [_("缺少扩展位数")]
        if not errors:
            errors = block_problems(
                first_code=instance.first_code,
                last_code=instance.last_code,
                extension_digits=instance.extension_digits,
                province=instance.province,
            )
            in_file = self._overlap_in_file(instance, kwargs.get("row_number", 0))
            if in_file:
                errors["first_code"] = [in_file]  # more useful than "overlaps the pool"
        if errors:
            raise ValidationError(errors)
        user = kwargs.get("user")
        instance.created_by = user if user is not None and user.is_authenticated else None

    def _overlap_in_file(self, instance, row_number: int) -> str:
        """Which earlier row of the file this block overlaps ("" if none); remembers it."""
        if not (
            SERVICE_CODE_RE.match(instance.first_code or "")
            and SERVICE_CODE_RE.match(instance.last_code or "")
        ):
            return ""
        length, first, last = (
            len(instance.first_code),
            int(instance.first_code),
            int(instance.last_code),
        )
        for other_length, other_first, other_last, other_row in self._ranges:
            if other_length == length and first <= other_last and last >= other_first:
                return _("与文件第 %(row)d 行的号段重叠") % {"row": other_row}
        self._ranges.append((length, first, last, row_number))
        return ""

    def after_save_instance(self, instance, row, **kwargs):
        if instance.pk:
            block_generate_codes(instance)


class ServiceCodeResource(resources.ModelResource):
    """The code pool for export (state, holder's enterprise)."""

    province = fields.Field(attribute="province", column_name="省份", widget=ProvinceWidget())

    class Meta:
        model = ServiceCode
        fields = (
            "code",
            "extension_digits",
            "province",
            "state",
            "reserved_until",
            "quarantined_until",
        )
        export_order = fields


class MasPortResource(resources.ModelResource):
    """MAS ports for export."""

    server = fields.Field(
        attribute="server",
        column_name="MAS 服务器",
        widget=widgets.ForeignKeyWidget("fulfillment.MasServer", field="name"),
    )

    class Meta:
        model = MasPort
        fields = ("server", "number", "state", "reserved_until", "assigned_at")
        export_order = fields
