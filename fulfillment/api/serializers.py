"""TMF622 resources over fulfillment's orders: `productOrder` and `cancelProductOrder`.

`productOrder` ↔ Order (docs/fulfillment.md, "For TMF622"):
- `state` is the order's state machine (TMF622 names; `draft` stays internal: drafts
  are not in the API). On create the server sets it: the order is submitted at once and
  the eligibility checks leave it `acknowledged` or `rejected`. A rejection's reasons are
  `note` entries (`id` "rejection-<n>", author 资格审核, the rule, its stable code and the
  item). Staff may move an open order through PATCH (held, pending, back to work,
  failed); cancellation goes through `cancelProductOrder`; anything else is 409 with the
  reachable states.
- `productOrderItem[]`: `id`, `action` (add / modify / delete / noChange; a modify whose
  `product.status` is `suspended` is a suspension, `active` with nothing else to change a
  resumption), `productOffering.id` → the catalog offering, `product.id` → the
  subscription (for an add, the one it created), product characteristics `cmppVersion`,
  `interfaceType`, `accessIp`, `serviceCodeProvince`, `serviceCode` (requested, then the
  one assigned), `contactName`, `contactPhone`. Once acknowledged, `itemPrice` is the
  tariff sold (第9条, CNY). Items cannot change after submission (409).
- `relatedParty`: the party with role `customer` is the enterprise (TMF629 customer id);
  an enterprise caller always orders for itself. Staff may only name enterprises their
  role shows them; any other id is kept but unknown, so the order is created and
  rejected. A party with role `contact` gives the contact person's name to add items.
- Dates: `orderDate` (server), `requestedStartDate` (activation time, 第3条; the basis of
  the one-month rule, 第11条: fixed after submission), `requestedCompletionDate`,
  `completionDate`, `cancellationDate`, `cancellationReason`.
- Unmodelled attributes (`agreement`, `billingAccount`, `channel`, `payment`, `quote`,
  `productOfferingQualification`, `orderTotalPrice`, `notificationContact`), unknown
  parties, notes and item/product attributes are kept as given and returned.

`cancelProductOrder` ↔ CancellationRequest: TaskStateType `state` (acknowledged →
inProgress → done, or terminatedWithError), `stateReason` (our extension) says why a
request was refused. An order the caller cannot see is "no such order", recorded and
refused, never a different answer for someone else's order.
"""

from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework import serializers

from core.tmf.access import request_enterprise_id
from core.tmf.errors import TmfConflictError
from core.tmf.fields import RefField, TmfDateTimeField
from core.tmf.format import tmf_datetime
from core.tmf.serializers import TmfSerializer, parse_pk
from core.tmf.states import StateMap
from customers.selectors import enterprises_visible_to

from .. import services
from ..models import CancellationRequest, Order, OrderItem
from ..services import ItemRequest
from .spec import TMF622

State = Order.State
Action = OrderItem.Action
STATE = StateMap("state", {state: [] for state in State.values if state != State.DRAFT})

# product characteristic name → ItemRequest field
CHARACTERISTICS = {
    "cmppVersion": "cmpp_version",
    "interfaceType": "interface_type",
    "accessIp": "access_ip",
    "serviceCodeProvince": "code_province",
    "serviceCode": "requested_code",
    "contactName": "contact_name",
    "contactPhone": "contact_phone",
}
ITEM_MAPPED = {"id", "action", "state", "productOffering", "product"}
PRODUCT_MAPPED = {"id", "status", "productCharacteristic"}
CUSTOMER_ROLE = "customer"
CONTACT_ROLES = {"contact", "contactperson", "联系人"}
REJECTION_NOTE = "rejection-"


def _text(value) -> str:
    return "" if value is None else str(value)


def _text_field():
    return serializers.CharField(
        required=False, allow_blank=True, allow_null=True, trim_whitespace=False
    )


def _money(amount) -> dict:
    return {"unit": "CNY", "value": float(amount)}


def split_parties(parties: list[dict] | None) -> tuple[dict | None, list[dict]]:
    """(the customer party, the other parties as given)."""
    customer, others = None, []
    for party in parties or []:
        if customer is None and _text(party.get("role")).strip().casefold() == CUSTOMER_ROLE:
            customer = dict(party)
        else:
            others.append(party)
    if customer is None:
        for index, party in enumerate(others):
            if _text(party.get("@referredType")) in ("Customer", "Organization"):
                customer = dict(others.pop(index))
                break
    return customer, others


def contact_name(parties: list[dict]) -> str:
    """The name of the first party whose role is a contact person."""
    for party in parties:
        if _text(party.get("role")).strip().casefold() in CONTACT_ROLES and party.get("name"):
            return _text(party["name"]).strip()
    return ""


def item_request(raw: dict, *, default_contact: str = "") -> tuple[ItemRequest, dict]:
    """One productOrderItem as an ItemRequest, and what to keep of it as given."""
    product = raw.get("product") if isinstance(raw.get("product"), dict) else {}
    offering = raw.get("productOffering") if isinstance(raw.get("productOffering"), dict) else {}
    fields, unknown = {}, []
    for characteristic in product.get("productCharacteristic") or []:
        field = CHARACTERISTICS.get(_text(characteristic.get("name")))
        value = characteristic.get("value")
        if field and field not in fields and not isinstance(value, dict | list):
            fields[field] = _text(value).strip()
        else:
            unknown.append(characteristic)
    action = _text(raw.get("action"))
    status = _text(product.get("status")).strip()
    if action == Action.MODIFY and status == "suspended":
        action = Action.SUSPEND
    elif action == Action.MODIFY and status == "active" and not fields and not offering:
        action = Action.RESUME
    if action == Action.ADD and not fields.get("contact_name") and default_contact:
        fields["contact_name"] = default_contact
    request = ItemRequest(
        action=action,
        offering=_text(offering.get("id")) or None,
        subscription=_text(product.get("id")) or None,
        item_id=_text(raw.get("id")).strip(),
        **fields,
    )
    kept = {
        "item": {k: v for k, v in raw.items() if k not in ITEM_MAPPED},
        "product": {k: v for k, v in product.items() if k not in PRODUCT_MAPPED},
        "characteristic": unknown,
        "productOffering": offering,
    }
    return request, {k: v for k, v in kept.items() if v}


class ProductOrderSerializer(TmfSerializer):
    """TMF622 ProductOrder over fulfillment.Order (see the module docstring)."""

    tmf_type = "ProductOrder"
    spec = TMF622
    view_name = "tmf622:productOrder-detail"
    state_attribute = "state"
    server_set = (
        "orderDate",
        "completionDate",
        "cancellationDate",
        "cancellationReason",
        "expectedCompletionDate",
    )
    passthrough = (
        "agreement",
        "billingAccount",
        "channel",
        "payment",
        "quote",
        "productOfferingQualification",
        "orderTotalPrice",
        "notificationContact",
    )

    description = _text_field()
    externalId = _text_field()
    priority = _text_field()
    category = _text_field()
    requestedStartDate = TmfDateTimeField(required=False, allow_null=True)
    requestedCompletionDate = TmfDateTimeField(required=False, allow_null=True)
    productOrderItem = serializers.ListField(child=serializers.DictField())
    relatedParty = serializers.ListField(
        child=serializers.DictField(), required=False, allow_null=True
    )
    note = serializers.ListField(child=serializers.DictField(), required=False, allow_null=True)
    state = serializers.CharField(required=False, allow_null=True)

    # ----------------------------------------------------------------- representation
    def represent(self, order: Order) -> dict:
        kept_items = self.kept(order, "productOrderItem") or {}
        return {
            "description": order.description or None,
            "externalId": order.external_id or None,
            "priority": order.priority or None,
            "category": order.category or None,
            "orderDate": tmf_datetime(order.order_date),
            "requestedStartDate": tmf_datetime(order.requested_start_at),
            "requestedCompletionDate": tmf_datetime(order.requested_completion_at),
            "completionDate": tmf_datetime(order.completed_at),
            "cancellationDate": tmf_datetime(order.cancelled_at),
            "cancellationReason": order.cancellation_reason or None,
            "state": order.state,
            "relatedParty": self._parties(order) or None,
            "note": self._notes(order) or None,
            "productOrderItem": [
                self._item(item, kept_items.get(item.item_id) or {}) for item in order.items.all()
            ],
        }

    def _parties(self, order: Order) -> list[dict]:
        given = dict(self.kept(order, "customer") or {})
        parties = []
        if order.enterprise_id:
            path = reverse("tmf629:customer-detail", kwargs={"id": order.enterprise_id})
            party = {
                **given,
                "id": str(order.enterprise_id),
                "href": self.absolute(path),
                "name": order.enterprise.name,
            }
            party.setdefault("role", "Customer")
            party.setdefault("@referredType", "Customer")
            parties.append(party)
        elif given:
            parties.append(given)
        elif order.enterprise_ref:
            parties.append(
                {"id": order.enterprise_ref, "role": "Customer", "@referredType": "Customer"}
            )
        return parties + self.kept_list(order, "relatedParty")

    def _notes(self, order: Order) -> list[dict]:
        notes = self.kept_list(order, "note")
        for number, reason in enumerate(order.rejection_reasons or [], start=1):
            where = _("订单项 %(item)s：") % {"item": reason["item"]} if reason.get("item") else ""
            notes.append(
                {
                    "id": f"{REJECTION_NOTE}{number}",
                    "author": _("资格审核"),
                    "date": tmf_datetime(order.submitted_at),
                    "text": f"{reason['rule']} [{reason['code']}] {where}{reason['message']}",
                    "@type": "Note",
                }
            )
        return notes

    def _item(self, item: OrderItem, kept: dict) -> dict:
        document = dict(kept.get("item") or {})
        action, status = item.action, None
        if action == Action.SUSPEND:
            action, status = Action.MODIFY, "suspended"
        elif action == Action.RESUME:
            action, status = Action.MODIFY, "active"
        document.update({"id": item.item_id, "action": action, "state": item.state})
        if item.offering_id:
            document["productOffering"] = self.ref(
                item.offering, "tmf620:productOffering-detail", "ProductOffering"
            )
        elif kept.get("productOffering"):
            document["productOffering"] = kept["productOffering"]
        product = dict(kept.get("product") or {})
        if item.subscription_id:
            product["id"] = str(item.subscription_id)
        elif item.subscription_ref:
            product["id"] = item.subscription_ref
        if status:
            product["status"] = status
        characteristics = self._characteristics(item) + list(kept.get("characteristic") or [])
        if characteristics:
            product["productCharacteristic"] = characteristics
        if product:
            document["product"] = product
        prices = self._prices(item)
        if prices:
            document["itemPrice"] = prices
        document.setdefault("@type", "ProductOrderItem")
        return document

    @staticmethod
    def _characteristics(item: OrderItem) -> list[dict]:
        code = item.service_code.code if item.service_code_id else item.requested_code
        values = [
            ("cmppVersion", item.cmpp_version),
            ("interfaceType", item.interface_type),
            ("accessIp", item.access_ip),
            ("serviceCodeProvince", item.code_province if item.action == Action.ADD else ""),
            ("serviceCode", code),
            ("contactName", item.contact_name),
            ("contactPhone", item.contact_phone),
        ]
        return [
            {"name": name, "valueType": "string", "value": value} for name, value in values if value
        ]

    @staticmethod
    def _prices(item: OrderItem) -> list[dict]:
        """The tariff sold (第9条), once the order was acknowledged."""
        if item.tariff_at is None:
            return []

        def line(name, price_type, amount, unit=None, period="month"):
            document = {
                "name": name,
                "priceType": price_type,
                "price": {"taxIncludedAmount": _money(amount)},
                "@type": "OrderPrice",
            }
            if price_type == "recurring":
                document["recurringChargePeriod"] = period
            if unit:
                document["unitOfMeasure"] = unit
            return document

        lines = []
        if item.bundle_price is not None:
            lines.append(line(_("套餐价"), "recurring", item.bundle_price))
        if item.port_fee:
            lines.append(line(_("端口费"), "recurring", item.port_fee))
        if item.package_fee:
            unit = _("%(n)d条") % {"n": item.included_messages or 0}
            lines.append(line(_("包月费"), "recurring", item.package_fee, unit))
        if item.overage_price:
            lines.append(line(_("超出单价"), "usage", item.overage_price, _("条")))
        return lines

    # ------------------------------------------------------------------------- input
    def _request(self):
        return self.context["request"]

    def create(self, validated_data):
        request = self._request()
        own = request_enterprise_id(request)
        customer, others = split_parties(validated_data.get("relatedParty"))
        default_contact = contact_name(others)
        items, kept_items = [], {}
        for raw in validated_data["productOrderItem"]:
            item, kept = item_request(raw, default_contact=default_contact)
            items.append(item)
            if kept:
                kept_items[item.item_id] = kept
        if own is not None:
            enterprise, scope = own, None
        else:
            enterprise = _text((customer or {}).get("id")) or None
            scope = enterprises_visible_to(request.user)
        notes = [n for n in validated_data.get("note") or [] if not _is_rejection_note(n)]
        extra = self.extra_after(
            None,
            kept={
                "productOrderItem": kept_items or None,
                "customer": customer,
                "relatedParty": others,
                "note": notes,
            },
        )
        return services.order_create(
            by=request.user,
            items=items,
            enterprise=enterprise,
            enterprises=scope,
            requested_start_at=validated_data.get("requestedStartDate"),
            requested_completion_at=validated_data.get("requestedCompletionDate"),
            description=_text(validated_data.get("description")),
            external_id=_text(validated_data.get("externalId")),
            priority=_text(validated_data.get("priority")),
            category=_text(validated_data.get("category")),
            channel=Order.Channel.TMF,
            extra=extra,
        )

    def update(self, instance: Order, validated_data):
        request = self._request()
        current = self.to_representation(instance)
        self._refuse_fixed_changes(current, validated_data)
        changes, kept = {}, {}
        for attribute, field in (
            ("description", "description"),
            ("externalId", "external_id"),
            ("priority", "priority"),
            ("category", "category"),
        ):
            if attribute in validated_data:
                changes[field] = _text(validated_data[attribute])
        if "requestedCompletionDate" in validated_data:
            changes["requested_completion_at"] = validated_data["requestedCompletionDate"]
        if "relatedParty" in validated_data:
            customer, others = split_parties(validated_data["relatedParty"])
            kept["relatedParty"] = others
            kept["customer"] = customer
        if "note" in validated_data:
            kept["note"] = [n for n in validated_data["note"] or [] if not _is_rejection_note(n)]
        changes["extra"] = self.extra_after(instance, kept=kept)
        order = services.order_update_details(order_id=instance.pk, by=request.user, **changes)
        if validated_data.get("state"):
            self._change_state(order, validated_data["state"])
        return order

    def _refuse_fixed_changes(self, current: dict, data: dict) -> None:
        """Items, the customer and the requested start are fixed once submitted (409)."""
        fixed = []
        if "productOrderItem" in data and data["productOrderItem"] != current.get(
            "productOrderItem"
        ):
            fixed.append("productOrderItem")
        if "requestedStartDate" in data and tmf_datetime(data["requestedStartDate"]) != (
            current.get("requestedStartDate")
        ):
            fixed.append("requestedStartDate")
        if "relatedParty" in data:
            new, _others = split_parties(data["relatedParty"])
            old, _kept = split_parties(current.get("relatedParty"))
            if _text((new or {}).get("id")) != _text((old or {}).get("id")):
                fixed.append("relatedParty (customer)")
        if fixed:
            raise TmfConflictError(
                f"{', '.join(fixed)} cannot change once the order is submitted; "
                "cancel it (cancelProductOrder) and place a new order"
            )

    def _change_state(self, order: Order, text: str) -> None:
        """A staff caller moves the order (held, pending, back to work, failed)."""
        request = self._request()
        user = request.user
        reason = _("经 TMF622 接口（%(user)s）") % {"user": user.get_username()}
        transitions = {}
        if request_enterprise_id(request) is None:

            def pend():
                services.order_pend(order_id=order.pk, by=user, reason=reason)

            def hold():
                services.order_hold(order_id=order.pk, by=user, reason=reason)

            def proceed():
                services.order_proceed(order_id=order.pk, by=user, reason=reason)

            def fail():
                services.order_fail(order_id=order.pk, by=user, reason=reason)

            working = State.IN_PROGRESS if order.started_at else State.ACKNOWLEDGED
            for source in (State.ACKNOWLEDGED, State.IN_PROGRESS):
                transitions[(source, State.PENDING)] = pend
            for source in (State.ACKNOWLEDGED, State.IN_PROGRESS, State.PENDING):
                transitions[(source, State.HELD)] = hold
            for source in (State.PENDING, State.HELD):
                transitions[(source, working)] = proceed
            for source in (State.IN_PROGRESS, State.PENDING, State.HELD):
                transitions[(source, State.FAILED)] = fail
        STATE.change(current=order.state, text=text, transitions=transitions)


def _is_rejection_note(note: dict) -> bool:
    return _text(note.get("id")).startswith(REJECTION_NOTE)


class CancelProductOrderSerializer(TmfSerializer):
    """TMF622 CancelProductOrder over fulfillment.CancellationRequest."""

    tmf_type = "CancelProductOrder"
    spec = TMF622
    view_name = "tmf622:cancelProductOrder-detail"
    state_attribute = "state"
    server_set = ("effectiveCancellationDate", "stateReason")

    productOrder = RefField()
    cancellationReason = _text_field()
    requestedCancellationDate = TmfDateTimeField(required=False, allow_null=True)

    def represent(self, cancellation: CancellationRequest) -> dict:
        order_ref = {"id": str(cancellation.order_id or cancellation.order_ref)}
        if cancellation.order_id:
            order_ref["href"] = self.href_for(cancellation.order, "tmf622:productOrder-detail")
        order_ref["@referredType"] = "ProductOrder"
        return {
            "cancellationReason": cancellation.reason or None,
            "requestedCancellationDate": tmf_datetime(cancellation.requested_cancellation_at),
            "effectiveCancellationDate": tmf_datetime(cancellation.effective_at),
            "productOrder": order_ref,
            "state": cancellation.state,
            "stateReason": cancellation.refusal_reason or None,
        }

    def create(self, validated_data):
        request = self.context["request"]
        ref = validated_data["productOrder"]
        pk = parse_pk(ref.get("id"))
        order = self.context["orders"].filter(pk=pk).first() if pk is not None else None
        common = {
            "by": request.user,
            "reason": _text(validated_data.get("cancellationReason")),
            "requested_cancellation_at": validated_data.get("requestedCancellationDate"),
        }
        if order is None:
            return services.order_cancel_request_unknown(order_ref=_text(ref.get("id")), **common)
        return services.order_cancel_request(order_id=order.pk, **common)
