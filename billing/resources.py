"""Bank entrustment files (第9条第2款) through django-import-export.

- Collection file (托收文件): the open invoices of bank-entrustment enterprises due by a
  date, one row per invoice with the bank details and the amount to collect (CSV/XLSX).
- Result file (托收回盘): the bank's answer per invoice: 成功 (collected), 失败 (not
  collected) or 退票 (an earlier collection bounced). Read all or nothing: every row is
  checked first, each problem reported with its row number, and nothing is written
  unless every row is good; then the collected amounts are recorded as payments and the
  bounced ones reversed, in one transaction.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _
from import_export import fields, resources

from core import clock
from core.money import yuan

from .models import Invoice, Payment

RESULT_HEADERS = {
    "账单编号": "number",
    "invoice": "number",
    "金额": "amount",
    "amount": "amount",
    "结果": "result",
    "result": "result",
    "银行流水号": "reference",
    "reference": "reference",
    "扣款日期": "date",
    "date": "date",
}
SUCCESS = {"成功", "success", "ok", "00"}
FAILED = {"失败", "failed", "fail"}
BOUNCED = {"退票", "bounced", "returned"}


class CollectionResource(resources.Resource):
    """One row per invoice to collect."""

    number = fields.Field(attribute="number", column_name=_("账单编号"))
    account = fields.Field(attribute="account__number", column_name=_("账务账户"))
    enterprise = fields.Field(attribute="account__enterprise__name", column_name=_("企业名称"))
    bank = fields.Field(attribute="account__enterprise__bank_name", column_name=_("开户银行"))
    bank_account_name = fields.Field(
        attribute="account__enterprise__bank_account_name", column_name=_("账户名称")
    )
    bank_account_number = fields.Field(
        attribute="account__enterprise__bank_account_number", column_name=_("银行账号")
    )
    amount = fields.Field(column_name=_("托收金额"))
    due_on = fields.Field(attribute="due_on", column_name=_("缴费截止日"))

    class Meta:
        export_order = (
            "number",
            "account",
            "enterprise",
            "bank",
            "bank_account_name",
            "bank_account_number",
            "amount",
            "due_on",
        )

    def dehydrate_amount(self, invoice: Invoice) -> str:
        return str(invoice.outstanding)


def _cell(row: dict, key: str) -> str:
    value = row.get(key)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and key != "amount":
        value = int(value)
    return str(value).strip()


def _date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(_("日期格式应为 YYYY-MM-DD：%(v)s") % {"v": text})


def read_result(dataset) -> tuple[list[dict], list[dict]]:
    """Check a result file; returns (rows to apply, problems). Writes nothing."""
    headers = [
        RESULT_HEADERS.get(str(h).strip().lower(), RESULT_HEADERS.get(str(h).strip()))
        for h in (dataset.headers or [])
    ]
    missing = {"number", "amount", "result"} - set(headers)
    if missing:
        return [], [{"row": 0, "message": _("缺少列：账单编号、金额、结果")}]
    rows, problems, seen = [], [], set()
    today = clock.today()
    for index, values in enumerate(dataset, start=1):
        raw = {key: value for key, value in zip(headers, values, strict=False) if key}
        number = _cell(raw, "number")
        result = _cell(raw, "result").lower()
        reference = _cell(raw, "reference")

        def problem(message, index=index):
            problems.append({"row": index, "message": str(message)})

        invoice = (
            Invoice.objects.filter(number=number).select_related("account__enterprise").first()
        )
        if invoice is None:
            problem(_("账单 %(n)s 不存在") % {"n": number or "—"})
            continue
        try:
            amount = yuan(Decimal(_cell(raw, "amount")))
        except (InvalidOperation, ValueError):
            problem(_("金额无效：%(v)s") % {"v": _cell(raw, "amount")})
            continue
        try:
            on = _date(raw.get("date")) if _cell(raw, "date") else today
        except ValueError as exc:
            problem(exc)
            continue
        if on > today:
            problem(_("扣款日期不能晚于今天"))
            continue
        key = (number, reference, result)
        if key in seen:
            problem(_("与前面的行重复"))
            continue
        seen.add(key)
        if result in SUCCESS:
            if invoice.state not in Invoice.CHASED_STATES:
                problem(
                    _("账单 %(n)s 当前不是待收状态（%(s)s）")
                    % {"n": number, "s": invoice.get_state_display()}
                )
            elif amount <= 0 or amount > invoice.outstanding:
                problem(_("金额须大于 0 且不超过应收 %(a)s") % {"a": invoice.outstanding})
            elif (
                reference
                and Payment.objects.filter(
                    reference=reference, method=Payment.Method.BANK_ENTRUSTMENT
                ).exists()
            ):
                problem(_("银行流水号 %(r)s 已入账") % {"r": reference})
            else:
                rows.append(
                    {
                        "kind": "collected",
                        "invoice": invoice,
                        "amount": amount,
                        "on": on,
                        "reference": reference,
                    }
                )
        elif result in BOUNCED:
            payment = (
                Payment.objects.filter(
                    reference=reference,
                    method=Payment.Method.BANK_ENTRUSTMENT,
                    state=Payment.State.RECEIVED,
                    account=invoice.account,
                ).first()
                if reference
                else None
            )
            if payment is None:
                problem(_("退票须给出已入账的银行流水号"))
            else:
                rows.append({"kind": "bounced", "invoice": invoice, "payment": payment})
        elif result in FAILED:
            rows.append({"kind": "failed", "invoice": invoice})
        else:
            problem(_("结果应为 成功、失败 或 退票：%(v)s") % {"v": _cell(raw, "result")})
    return rows, problems


def apply_result(dataset, *, by) -> dict:
    """Read and apply a result file all or nothing; returns the report."""
    from . import services

    rows, problems = read_result(dataset)
    report = {"problems": problems, "collected": 0, "bounced": 0, "failed": 0, "amount": ZERO_T}
    if problems:
        return report
    with transaction.atomic():
        for row in rows:
            if row["kind"] == "collected":
                services.payment_record(
                    account_id=row["invoice"].account_id,
                    amount=row["amount"],
                    method=Payment.Method.BANK_ENTRUSTMENT,
                    received_on=row["on"],
                    reference=row["reference"],
                    by=by,
                )
                report["collected"] += 1
                report["amount"] += row["amount"]
            elif row["kind"] == "bounced":
                services.payment_reverse(
                    payment_id=row["payment"].pk, reason=_("托收退票（银行回盘）"), by=by
                )
                report["bounced"] += 1
            else:
                report["failed"] += 1
    return report


ZERO_T = Decimal("0.00")
