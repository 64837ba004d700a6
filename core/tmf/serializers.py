"""The base of every TMF resource serializer: representation and create/patch rules.

A resource serializer declares:

    class ProductOfferingSerializer(TmfSerializer):
        tmf_type = "ProductOffering"            # @type, and the spec definitions' name
        spec = TMF620                           # core.tmf.spec.TmfSpec
        view_name = "tmf620:productOffering-detail"
        state_attribute = "lifecycleStatus"     # ignored on create (server sets it)
        server_set = ("lastUpdate",)            # more attributes only the server writes
        passthrough = ("channel", "place")      # spec attributes kept exactly as given

        name = serializers.CharField(...)       # input fields, as in any DRF serializer
        ...

        def represent(self, offering) -> dict:  # the resource's own attributes
            ...
        def create(self, validated_data):       # call the app's service
        def update(self, instance, validated_data):

The base adds `id` and `href` (strings; `href` absolute), `@type` (`@baseType` and
`@schemaLocation` when declared), the passthrough attributes stored in the model's
`tmf_extra` JSON field, and drops attributes that are None. Models exposed this way have
a `tmf_extra = models.JSONField(default=dict, blank=True)` holding
`{"attrs": {attribute: value}, "kept": {attribute: [item, ...]}}`: specification
attributes the domain does not model (`attrs`, returned as given), and the parts of
mapped attributes that the domain could not take (`kept`): references to resources this
system does not hold, characteristics or contact media it has no field for. They are
kept so that a GET returns what was sent, as TMF-CONVENTIONS.md asks.

Without a request in the context (events, exports) `href` is built on the setting
`TMF_BASE_URL`.
"""

from django.conf import settings
from django.db.models import Model, QuerySet
from django.urls import reverse
from rest_framework import serializers

from .format import without_nulls


class TmfSerializer(serializers.Serializer):
    """Base class; see the module docstring."""

    tmf_type: str = ""
    tmf_base_type: str | None = None
    tmf_schema_location: str | None = None
    spec = None
    view_name: str = ""
    state_attribute: str | None = None
    server_set: tuple[str, ...] = ()
    passthrough: tuple[str, ...] = ()

    ALWAYS_SERVER_SET = ("id", "href", "@type", "@baseType", "@schemaLocation")

    # ----------------------------------------------------------------- representation
    def represent(self, instance) -> dict:
        """The resource's own attributes (subclasses)."""
        raise NotImplementedError

    def to_representation(self, instance) -> dict:
        document = {"id": str(instance.pk), "href": self.href_for(instance)}
        extra = getattr(instance, "tmf_extra", None) or {}
        for name, value in (extra.get("attrs") or {}).items():
            if name in self.passthrough:
                document[name] = value
        document.update(self.represent(instance))
        document["@type"] = self.tmf_type
        if self.tmf_base_type:
            document["@baseType"] = self.tmf_base_type
        if self.tmf_schema_location:
            document["@schemaLocation"] = self.tmf_schema_location
        return without_nulls(document)

    def href_for(self, instance, view_name: str | None = None) -> str:
        return self.absolute(reverse(view_name or self.view_name, kwargs={"id": instance.pk}))

    def absolute(self, path: str) -> str:
        request = self.context.get("request")
        if request is not None:
            return request.build_absolute_uri(path)
        return settings.TMF_BASE_URL.rstrip("/") + path

    def ref(self, obj: Model | None, view_name: str, referred_type: str, **attrs) -> dict | None:
        """A reference to a resource this system holds: id, href, name, @referredType."""
        if obj is None:
            return None
        ref = {"id": str(obj.pk), "href": self.href_for(obj, view_name)}
        name = getattr(obj, "name", None)
        if name is not None:
            ref["name"] = name
        ref.update(attrs)
        ref["@referredType"] = referred_type
        return ref

    @staticmethod
    def kept(instance, attribute: str):
        """What was kept as given for `attribute` (a list, or one object), or None."""
        extra = getattr(instance, "tmf_extra", None) or {}
        return (extra.get("kept") or {}).get(attribute)

    def kept_list(self, instance, attribute: str) -> list:
        value = self.kept(instance, attribute)
        return list(value) if isinstance(value, list) else []

    # ------------------------------------------------------------------------- input
    @classmethod
    def input_ignored(cls) -> set[str]:
        """Attributes a client may send but only the server sets (ignored on create)."""
        ignored = set(cls.ALWAYS_SERVER_SET) | set(cls.server_set)
        if cls.state_attribute:
            ignored.add(cls.state_attribute)
        return ignored

    def passthrough_values(self) -> dict:
        """The passthrough attributes present in this request's data (None = remove)."""
        data = self.initial_data if isinstance(self.initial_data, dict) else {}
        return {name: data[name] for name in self.passthrough if name in data}

    def extra_after(self, instance, *, kept: dict | None = None) -> dict:
        """The model's new `tmf_extra`: stored attrs/kept parts updated by this request.

        `kept` maps attribute → what to keep as given (a list, one object, or None/[] to
        drop); attributes not named keep what they had.
        """
        current = (getattr(instance, "tmf_extra", None) or {}) if instance is not None else {}
        attrs = dict(current.get("attrs") or {})
        for name, value in self.passthrough_values().items():
            if value is None:
                attrs.pop(name, None)
            else:
                attrs[name] = value
        stored = dict(current.get("kept") or {})
        for name, value in (kept or {}).items():
            if value in (None, []):
                stored.pop(name, None)
            else:
                stored[name] = value
        extra = {}
        if attrs:
            extra["attrs"] = attrs
        if stored:
            extra["kept"] = stored
        return extra


def split_refs(refs: list[dict] | None, queryset: QuerySet) -> tuple[list, list[dict]]:
    """Resolve references by id: (objects this system holds, in order; the others as given).

    An id that is not a number, or names no row of `queryset`, is a dangling reference:
    kept, never a reason to refuse the request.
    """
    if not refs:
        return [], []
    ids = {}
    for ref in refs:
        pk = parse_pk(ref.get("id"))
        if pk is not None:
            ids[pk] = None
    found = queryset.in_bulk(list(ids)) if ids else {}
    known, dangling = [], []
    for ref in refs:
        obj = found.get(parse_pk(ref.get("id")))
        if obj is None:
            dangling.append(ref)
        elif obj not in known:
            known.append(obj)
    return known, dangling


def split_ref(ref: dict | None, queryset: QuerySet) -> tuple[Model | None, dict | None]:
    """One reference: (the object, None) or (None, the reference as given)."""
    if not ref:
        return None, None
    known, dangling = split_refs([ref], queryset)
    return (known[0], None) if known else (None, dangling[0])


MAX_PK = 2**63 - 1


def parse_pk(value) -> int | None:
    """A primary key from an id string, or None whatever else it looks like."""
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or not text.isascii():
        return None
    number = int(text)
    return number if 0 < number <= MAX_PK else None
