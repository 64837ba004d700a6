"""DRF fields for TMF input: date-times, periods, references, money, quantities.

They read what a client sends; the shape (object vs array, mandatory attributes) has
already been checked against the specification (`core.tmf.spec`) by the view.
"""

from decimal import Decimal, InvalidOperation

from rest_framework import serializers

from .format import parse_tmf_datetime


class TmfDateTimeField(serializers.Field):
    """An ISO 8601 date-time; `Z` or an offset is honoured, a naive one is read as UTC."""

    def to_internal_value(self, data):
        try:
            return parse_tmf_datetime(data)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def to_representation(self, value):  # pragma: no cover - output is built by represent()
        from .format import tmf_datetime

        return tmf_datetime(value)


class TimePeriodField(serializers.Field):
    """A TMF TimePeriod `{startDateTime, endDateTime}` read as a (start, end) pair."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("validFor must be an object (TimePeriod)")
        bounds = []
        for key in ("startDateTime", "endDateTime"):
            value = data.get(key)
            if value is None:
                bounds.append(None)
                continue
            try:
                bounds.append(parse_tmf_datetime(value))
            except ValueError as exc:
                raise serializers.ValidationError({key: str(exc)}) from exc
        start, end = bounds
        if start and end and end <= start:
            raise serializers.ValidationError("validFor.endDateTime must be after startDateTime")
        return start, end

    def to_representation(self, value):  # pragma: no cover - output is built by represent()
        return value


class RefField(serializers.Field):
    """A reference object (`{"id": ..., "href": ..., "name": ...}`), kept as given.

    The id is read as a string; `id_required=False` for references such as AccountRef
    whose identifier the specification leaves optional.
    """

    def __init__(self, *, id_required: bool = True, **kwargs):
        self.id_required = id_required
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("a reference must be an object")
        ref = dict(data)
        if "id" in ref and ref["id"] is not None:
            ref["id"] = str(ref["id"])
        elif self.id_required:
            raise serializers.ValidationError("a reference needs its id")
        return ref

    def to_representation(self, value):  # pragma: no cover
        return value


class RefListField(serializers.ListField):
    """An array of references, each kept as given."""

    def __init__(self, *, id_required: bool = True, **kwargs):
        kwargs.setdefault("child", RefField(id_required=id_required))
        super().__init__(**kwargs)


class MoneyValueField(serializers.Field):
    """A TMF Money `{"unit": "CNY", "value": 300.0}` read as (Decimal amount, unit)."""

    def __init__(self, *, decimal_places: int = 2, **kwargs):
        self.decimal_places = decimal_places
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("price must be an object (Money)")
        raw = data.get("value")
        if raw is None or isinstance(raw, bool):
            raise serializers.ValidationError({"value": "Money.value is required, a number"})
        try:
            amount = Decimal(str(raw))
        except InvalidOperation as exc:
            raise serializers.ValidationError({"value": "Money.value must be a number"}) from exc
        if not amount.is_finite() or amount < 0:
            raise serializers.ValidationError({"value": "Money.value must be zero or more"})
        if -amount.as_tuple().exponent > self.decimal_places:
            raise serializers.ValidationError(
                {"value": f"amounts are in yuan with fen precision ({self.decimal_places} places)"}
            )
        if amount >= Decimal(10) ** 12:
            raise serializers.ValidationError({"value": "amount too large"})
        unit = data.get("unit") or "CNY"
        return amount.quantize(Decimal(1).scaleb(-self.decimal_places)), str(unit)

    def to_representation(self, value):  # pragma: no cover
        return value


class QuantityField(serializers.Field):
    """A TMF Quantity `{"amount": 10000, "units": "条"}` read as (Decimal amount, units)."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("unitOfMeasure must be an object (Quantity)")
        raw = data.get("amount", 1)
        if isinstance(raw, bool):
            raise serializers.ValidationError({"amount": "Quantity.amount must be a number"})
        try:
            amount = Decimal(str(raw))
        except InvalidOperation as exc:
            raise serializers.ValidationError(
                {"amount": "Quantity.amount must be a number"}
            ) from exc
        if not amount.is_finite():
            raise serializers.ValidationError({"amount": "Quantity.amount must be a number"})
        return amount, str(data.get("units") or "")

    def to_representation(self, value):  # pragma: no cover
        return value
