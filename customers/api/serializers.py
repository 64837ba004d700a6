"""TMF629 `customer` ↔ the enterprise file (customers.Enterprise and its contacts).

Mapping (documented in the OpenAPI description too):
- `id` = the enterprise's id; `name` = 企业名称.
- `status` = the enterprise state machine, which stays authoritative. Values returned:
  `prospect`, `active`, `suspended`, `closed`, or the client's own spelling while it still
  holds (core.tmf.states). Spellings accepted (any case): prospect ← initialized,
  created, pending; active ← approved, validated, enabled; suspended ← blocked;
  closed ← terminated, deactivated. A POST's status is ignored (a new customer is a
  prospect). PATCH runs enterprise_activate / _suspend / _resume / _close, with
  `statusReason` as the reason; activation needs a complete file (credit code, city,
  manager, primary contact), else 409 with what is missing.
- `engagedParty`: kept as the client gave it (the party is not held here); for files
  made in the admin, `{"id": <enterprise id>, "name", "@referredType": "Organization"}`.
- `contactMedium`: one medium per contact person (`mediumType` "mobile", `preferred` =
  primary contact, `characteristic.phoneNumber`/`emailAddress`/`contactType`; the
  person's name and title in the extension attributes `contactName`/`contactRole`), and
  the registered address as a `postalAddress` medium (`city`, `street1`,
  `stateOrProvince`). On input a medium with a mainland mobile `phoneNumber` is a
  contact, a postal one sets city/address; other media are kept as given. The list
  replaces the contacts (matched by mobile number).
- `characteristic`: `creditCode` (统一社会信用代码), `industry` (code or Chinese name),
  `grade` (A/B/C), `province` (GB/T 2260 code or name), `brands`, `goodCredit`; others
  are kept as given. A list replaces them: a known characteristic left out returns to
  its default.
- `relatedParty`: the customer manager as role `accountManager` (an Individual whose
  id is the user's id; only department heads may change it; a manager creating a
  customer becomes its manager); other parties are kept as given.
- `account`, `agreement`, `creditProfile`, `paymentMethod`, `statusReason`, `validFor`
  are kept as given; without an `account`, the settlement account is described from the
  payment method; without `validFor`, it is the activation/closing time.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from rest_framework import serializers

from core.phone import normalize_mobile
from core.roles import Role
from core.tmf.errors import TmfError
from core.tmf.fields import RefField
from core.tmf.format import time_period
from core.tmf.serializers import TmfSerializer, parse_pk
from core.tmf.states import StateMap

from .. import services
from ..models import Enterprise
from ..regions import Province
from .spec import TMF629

STATUS = StateMap(
    "status",
    {
        Enterprise.Status.PROSPECT: ["initialized", "initialised", "created", "pending"],
        Enterprise.Status.ACTIVE: ["approved", "validated", "enabled"],
        Enterprise.Status.SUSPENDED: ["blocked"],
        Enterprise.Status.CLOSED: ["terminated", "deactivated"],
    },
)
POSTAL_TYPES = {"postaladdress", "postal address", "postal", "address"}
MANAGER_ROLES = {"accountmanager", "account manager", "客户经理"}
CHARACTERISTICS = ("creditCode", "industry", "grade", "province", "brands", "goodCredit")
_DEFAULTS = {
    "credit_code": "",
    "industry": Enterprise.Industry.OTHER,
    "grade": Enterprise.Grade.C,
    "province": Province.HENAN,
    "brands": "",
    "good_credit": False,
}


class ForbiddenError(TmfError):
    status_code = 403
    code = "forbidden"
    reason = "Forbidden"


def _choice(value, choices, attribute: str) -> str:
    text = str(value).strip()
    for code, label in choices:
        if text.casefold() in (str(code).casefold(), str(label).casefold()):
            return code
        if str(label).rstrip("省市").casefold() == text.rstrip("省市").casefold() and text:
            return code
    allowed = ", ".join(f"{code} ({label})" for code, label in choices)
    raise serializers.ValidationError(
        {"characteristic": f"{attribute} “{text}” is not one of: {allowed}"}
    )


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).strip().casefold() in ("true", "1", "yes"):
        return True
    if str(value).strip().casefold() in ("false", "0", "no", ""):
        return False
    raise serializers.ValidationError({"characteristic": "goodCredit must be true or false"})


class CustomerSerializer(TmfSerializer):
    """TMF629 Customer over the enterprise file; see the module docstring."""

    tmf_type = "Customer"
    spec = TMF629
    view_name = "tmf629:customer-detail"
    state_attribute = "status"
    passthrough = (
        "account",
        "agreement",
        "creditProfile",
        "paymentMethod",
        "statusReason",
        "validFor",
    )

    name = serializers.CharField(max_length=200)
    status = serializers.CharField(required=False, allow_null=True)
    engagedParty = RefField(required=False)
    contactMedium = serializers.ListField(
        child=serializers.DictField(), required=False, allow_null=True
    )
    characteristic = serializers.ListField(
        child=serializers.DictField(), required=False, allow_null=True
    )
    relatedParty = serializers.ListField(
        child=serializers.DictField(), required=False, allow_null=True
    )

    # ----------------------------------------------------------------- representation
    def represent(self, e: Enterprise) -> dict:
        attrs = (e.tmf_extra or {}).get("attrs") or {}
        document = {
            "name": e.name,
            "status": STATUS.present(e.status, e.tmf_status, e.tmf_status_for),
            "engagedParty": self.kept(e, "engagedParty")
            or {"id": str(e.pk), "name": e.name, "@referredType": "Organization"},
            "contactMedium": self._media(e),
            "characteristic": self._characteristics(e),
            "relatedParty": self._parties(e),
        }
        if "account" not in attrs:
            document["account"] = [self._settlement_account(e)]
        if "validFor" not in attrs:
            document["validFor"] = time_period(e.activated_at, e.closed_at)
        return document

    def _media(self, e: Enterprise) -> list[dict]:
        media = []
        for contact in sorted(e.contacts.all(), key=lambda c: (not c.is_primary, c.name, c.pk)):
            characteristic = {"contactType": "mobile", "phoneNumber": contact.mobile}
            if contact.email:
                characteristic["emailAddress"] = contact.email
            medium = {
                "mediumType": "mobile",
                "preferred": contact.is_primary,
                "characteristic": characteristic,
                "contactName": contact.name,
            }
            if contact.role:
                medium["contactRole"] = contact.role
            media.append(medium)
        if e.city or e.address:
            postal = {"country": "中国", "stateOrProvince": e.get_province_display()}
            if e.city:
                postal["city"] = e.city
            if e.address:
                postal["street1"] = e.address
            media.append({"mediumType": "postalAddress", "characteristic": postal})
        return media + self.kept_list(e, "contactMedium")

    def _characteristics(self, e: Enterprise) -> list[dict]:
        values = {
            "creditCode": e.credit_code,
            "industry": e.industry,
            "grade": e.grade,
            "province": e.province,
            "brands": e.brands,
        }
        result = [
            {"name": name, "valueType": "string", "value": value}
            for name, value in values.items()
            if value
        ]
        result.append({"name": "goodCredit", "valueType": "boolean", "value": e.good_credit})
        return result + self.kept_list(e, "characteristic")

    def _parties(self, e: Enterprise) -> list[dict]:
        parties = []
        manager = e.account_manager
        if manager is not None:
            parties.append(
                {
                    "id": str(manager.pk),
                    "name": str(manager),
                    "role": "accountManager",
                    "@referredType": "Individual",
                }
            )
        return parties + self.kept_list(e, "relatedParty")

    @staticmethod
    def _settlement_account(e: Enterprise) -> dict:
        if e.payment_method == Enterprise.PaymentMethod.BANK_ENTRUSTMENT:
            tail = e.bank_account_number[-4:]
            description = f"银行托收：{e.bank_name} {e.bank_account_name} 尾号{tail}"
        else:
            description = "现金"
        return {
            "name": f"{e.name}结算账户",
            "description": description,
            "@referredType": "PartyAccount",
        }

    # ------------------------------------------------------------------------- input
    def _request(self):
        return self.context["request"]

    def _characteristic_fields(self, items: list[dict]) -> tuple[dict, list[dict]]:
        fields = dict(_DEFAULTS)
        kept = []
        for item in items:
            name = str(item.get("name", ""))
            value = item.get("value")
            if name == "creditCode":
                fields["credit_code"] = str(value or "").strip().upper()
            elif name == "industry":
                fields["industry"] = _choice(value, Enterprise.Industry.choices, name)
            elif name == "grade":
                fields["grade"] = _choice(value, Enterprise.Grade.choices, name)
            elif name == "province":
                fields["province"] = _choice(value, Province.choices, name)
            elif name == "brands":
                fields["brands"] = str(value or "")[:200]
            elif name == "goodCredit":
                fields["good_credit"] = _bool(value)
            else:
                kept.append(item)
        return fields, kept

    @staticmethod
    def _media_fields(media: list[dict]) -> tuple[dict, list[dict], list[dict]]:
        address = {"city": "", "address": ""}
        contacts, kept = [], []
        postal_seen = False
        for medium in media:
            characteristic = medium.get("characteristic") or {}
            phone = characteristic.get("phoneNumber")
            medium_type = str(medium.get("mediumType", "")).casefold()
            if phone:
                try:
                    mobile = normalize_mobile(str(phone))
                except ValidationError:
                    kept.append(medium)
                    continue
                contacts.append(
                    {
                        "mobile": mobile,
                        "name": medium.get("contactName"),
                        "role": medium.get("contactRole"),
                        "email": characteristic.get("emailAddress") or "",
                        "is_primary": medium.get("preferred") is True,
                    }
                )
            elif not postal_seen and (
                medium_type in POSTAL_TYPES
                or characteristic.get("city")
                or characteristic.get("street1")
            ):
                postal_seen = True
                street = " ".join(
                    str(characteristic.get(key) or "").strip() for key in ("street1", "street2")
                ).strip()
                address = {
                    "city": str(characteristic.get("city") or "")[:50],
                    "address": street[:200],
                }
            else:
                kept.append(medium)
        return address, contacts, kept

    def _manager_fields(self, parties: list[dict], instance) -> tuple[dict, list[dict]]:
        """The account manager named in relatedParty, and the parties kept as given."""
        user_model = get_user_model()
        manager, kept = None, []
        named = False
        for party in parties:
            if str(party.get("role", "")).casefold() in MANAGER_ROLES and not named:
                named = True
                pk = parse_pk(party.get("id"))
                candidate = (
                    user_model.objects.filter(pk=pk)
                    .filter(Q(groups__name=Role.CUSTOMER_MANAGER) | Q(is_superuser=True))
                    .first()
                    if pk
                    else None
                )
                if candidate is None:
                    kept.append(party)
                else:
                    manager = candidate
            else:
                kept.append(party)
        user = self._request().user
        current = instance.account_manager if instance is not None else None
        may_assign = user.is_superuser or user.has_perm("customers.view_all_enterprises")
        if instance is None:
            chosen = manager if manager is not None else user
            if chosen != user and not may_assign:
                raise ForbiddenError(
                    "only department heads may assign a customer to another account manager"
                )
        else:
            chosen = manager if named else None
            if chosen != current and not may_assign:
                raise ForbiddenError(
                    "only department heads may change a customer's account manager"
                )
        return {"account_manager": chosen}, kept

    def _mapped(self, data: dict, instance) -> tuple[dict, list | None, dict]:
        """(enterprise fields, contacts or None, kept parts) for the attributes given."""
        fields: dict = {}
        kept: dict = {}
        contacts = None
        if "name" in data:
            fields["name"] = data["name"]
        if "engagedParty" in data:
            kept["engagedParty"] = data["engagedParty"]
        if "characteristic" in data:
            values, kept["characteristic"] = self._characteristic_fields(
                data["characteristic"] or []
            )
            fields.update(values)
        if "contactMedium" in data:
            address, contacts, kept["contactMedium"] = self._media_fields(
                data["contactMedium"] or []
            )
            fields.update(address)
        if "relatedParty" in data or instance is None:
            values, kept["relatedParty"] = self._manager_fields(
                data.get("relatedParty") or [], instance
            )
            fields.update(values)
        return fields, contacts, kept

    def create(self, validated_data):
        user = self._request().user
        fields, contacts, kept = self._mapped(validated_data, None)
        enterprise = services.enterprise_create(
            by=user, tmf_extra=self.extra_after(None, kept=kept), **fields
        )
        if contacts:
            services.enterprise_contacts_replace(
                enterprise_id=enterprise.pk, contacts=contacts, by=user
            )
        return enterprise

    def update(self, instance, validated_data):
        user = self._request().user
        fields, contacts, kept = self._mapped(validated_data, instance)
        extra = self.extra_after(instance, kept=kept)
        if fields or extra != instance.tmf_extra:
            services.enterprise_update(
                enterprise_id=instance.pk, by=user, tmf_extra=extra, **fields
            )
        if contacts is not None:
            services.enterprise_contacts_replace(
                enterprise_id=instance.pk, contacts=contacts, by=user
            )
        if validated_data.get("status"):
            self._change_status(instance.pk, validated_data["status"], user)
        return Enterprise.objects.get(pk=instance.pk)

    def _change_status(self, enterprise_id: int, text: str, user) -> None:
        enterprise = Enterprise.objects.get(pk=enterprise_id)
        target = STATUS.to_domain(text)
        reason = str(self.passthrough_values().get("statusReason") or "TMF629")
        if target is not None:
            # Store the client's spelling first, so the state-change event carries it.
            services.enterprise_status_label_set(
                enterprise_id=enterprise_id, label=text, label_for=target
            )
        current = enterprise.status
        status = Enterprise.Status
        STATUS.change(
            current=current,
            text=text,
            transitions={
                (status.PROSPECT, status.ACTIVE): lambda: services.enterprise_activate(
                    enterprise_id=enterprise_id, by=user, reason=reason
                ),
                (status.ACTIVE, status.SUSPENDED): lambda: services.enterprise_suspend(
                    enterprise_id=enterprise_id, by=user, reason=reason
                ),
                (status.SUSPENDED, status.ACTIVE): lambda: services.enterprise_resume(
                    enterprise_id=enterprise_id, by=user, reason=reason
                ),
                **{
                    (source, status.CLOSED): (
                        lambda: services.enterprise_close(
                            enterprise_id=enterprise_id, by=user, reason=reason
                        )
                    )
                    for source in (status.PROSPECT, status.ACTIVE, status.SUSPENDED)
                },
            },
        )
