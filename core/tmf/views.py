"""`TmfViewSet`: list, retrieve, create, patch and delete with the TMF conventions.

An app's TMF resource is a few declarations:

    class ProductOfferingViewSet(TmfViewSet):
        serializer_class = ProductOfferingSerializer
        queryset = ProductOffering.objects.prefetch_related("categories")
        filter_fields = {"name": ExactFilter("name"), "category.id": None}
        enterprise_methods = ()           # methods an enterprise caller may use

        def get_queryset(self):           # scope rows to the caller when needed
            ...
        def perform_destroy(self, obj):   # call the app's service
            services.offering_delete(offering_id=obj.pk, by=self.request.user)

What the base does (TMF-CONVENTIONS.md):
- list: bare JSON array, newest first, `offset`/`limit` (at most `TMF_MAX_LIMIT`, larger
  limits are reduced to it), `X-Total-Count`/`X-Result-Count`, exact attribute filters
  (see core.tmf.filters), `fields=` keeping `id` and `href` on items;
- retrieve: `fields=` gives exactly those attributes; an id that names no visible row is
  404 whatever it looks like;
- create: the body is checked against the specification's `<Type>_Create` definition
  (mandatory attributes, JSON types → 400), server-set attributes and the state are
  dropped, unknown attributes ignored; 201, the whole resource and `Location`;
- patch: `application/json` or `application/merge-patch+json`; the body is a merge patch
  on the current representation (checked against `<Type>_Update`); only the attributes
  it names are applied; `id`/`href` cannot change (400); 200 and the whole resource;
- delete: `perform_destroy` (the service decides what may go: 409 otherwise); 204.
Writes run in one transaction with the events they publish.
"""

from django.conf import settings
from django.db import transaction
from rest_framework import exceptions, status, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from .access import TmfAccess
from .errors import TmfBadRequestError, TmfNotFoundError, tmf_exception_handler
from .filters import Filter
from .format import (
    contains_nul,
    document_matches,
    merge_patch,
    parse_fields,
    project,
    without_nulls,
)
from .http import MergePatchParser, TmfJSONRenderer
from .serializers import TmfSerializer, parse_pk

RESERVED_PARAMETERS = {"fields", "offset", "limit", "sort", "depth", "expand", "format"}


def max_limit() -> int:
    """The largest page a collection returns (setting TMF_MAX_LIMIT, at least 100)."""
    return max(100, int(getattr(settings, "TMF_MAX_LIMIT", 1000)))


def default_limit() -> int:
    """The page size when the client gives no `limit` (setting TMF_DEFAULT_LIMIT)."""
    return min(max_limit(), int(getattr(settings, "TMF_DEFAULT_LIMIT", 100)))


class TmfViewSet(viewsets.GenericViewSet):
    """Base viewset of every TMF resource; see the module docstring."""

    serializer_class: type[TmfSerializer]
    filter_fields: dict[str, Filter | None] = {}
    collection_actions: dict[str, str] | None = None  # method → action; None: all of them
    detail_actions: dict[str, str] | None = None
    ordering: tuple[str, ...] = ("-created_at", "-pk")
    enterprise_methods: tuple[str, ...] = ()
    delete_action = "change"
    permission_model: str | None = None
    renderer_classes = [TmfJSONRenderer]
    parser_classes = [JSONParser, MergePatchParser]
    permission_classes = [TmfAccess]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    pagination_class = None
    filter_backends = ()

    def get_exception_handler(self):
        return tmf_exception_handler

    def initial(self, request, *args, **kwargs):
        # A method the resource does not have (see `detail_actions`) is 405 whoever asks,
        # not a 403 for lacking a permission that no role could use.
        if request.method != "OPTIONS" and request.method.lower() not in self.action_map:
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)
        if contains_nul(dict(request.query_params.lists())):
            raise TmfBadRequestError("query parameters must not contain NUL (U+0000) characters")

    def get_object(self):
        pk = parse_pk(self.kwargs.get("id"))
        obj = self.get_queryset().filter(pk=pk).first() if pk is not None else None
        if obj is None:
            raise TmfNotFoundError(
                f"no {self.serializer_class.tmf_type} with id “{self.kwargs.get('id')}”"
            )
        self.check_object_permissions(self.request, obj)
        return obj

    def represent(self, obj) -> dict:
        return self.get_serializer(obj).data

    # --------------------------------------------------------------------- reading
    def list(self, request, *args, **kwargs):
        offset, limit = self._page_bounds(request)
        fields = parse_fields(request.query_params.get("fields"))
        queryset = self.get_queryset().order_by(*self.ordering)
        on_documents = {}
        for name in request.query_params:
            if name in RESERVED_PARAMETERS:
                continue
            values = request.query_params.getlist(name)
            declared = self.filter_fields.get(name)
            if declared is not None:
                queryset = declared.apply(queryset, values)
            else:
                on_documents[name] = values
        if on_documents:
            documents = [
                doc
                for doc in (self.represent(obj) for obj in queryset.iterator(chunk_size=500))
                if all(document_matches(doc, path, v) for path, v in on_documents.items())
            ]
            total = len(documents)
            page = documents[offset : offset + limit]
        else:
            total = queryset.count()
            page = [self.represent(obj) for obj in queryset[offset : offset + limit]]
        if fields:
            page = [project(doc, fields, keep=("id", "href")) for doc in page]
        headers = {"X-Total-Count": str(total), "X-Result-Count": str(len(page))}
        return Response(page, headers=headers)

    def _page_bounds(self, request) -> tuple[int, int]:
        values = {}
        for name, default in (("offset", 0), ("limit", default_limit())):
            raw = request.query_params.get(name)
            if raw is None or raw == "":
                values[name] = default
                continue
            if not raw.isdigit() or not raw.isascii():
                raise TmfBadRequestError(f"{name} must be a whole number ≥ 0, got “{raw}”")
            values[name] = int(raw)
        # An offset past any real collection is just an empty page (and stays in the
        # range of a database bigint).
        return min(values["offset"], 2**62), min(values["limit"], max_limit())

    def retrieve(self, request, *args, **kwargs):
        document = self.represent(self.get_object())
        fields = parse_fields(request.query_params.get("fields"))
        if fields:
            document = project(document, fields)
        return Response(document)

    # --------------------------------------------------------------------- writing
    def create(self, request, *args, **kwargs):
        body = self._body(request)
        serializer_class = self.get_serializer_class()
        self._check_spec(f"{serializer_class.tmf_type}_Create", body, partial=False)
        ignored = serializer_class.input_ignored()
        data = {k: v for k, v in body.items() if k not in ignored}
        with transaction.atomic():
            serializer = self.get_serializer(data=data)
            serializer.is_valid(raise_exception=True)
            obj = serializer.save()
            document = self.represent(self._fresh(obj))
        return Response(
            document, status=status.HTTP_201_CREATED, headers={"Location": document["href"]}
        )

    def partial_update(self, request, *args, **kwargs):
        patch = self._body(request)
        serializer_class = self.get_serializer_class()
        tmf_type = serializer_class.tmf_type
        with transaction.atomic():
            obj = self.get_object()
            current = self.represent(obj)
            for key in ("id", "href"):
                if key in patch and patch[key] is not None and str(patch[key]) != current[key]:
                    raise TmfBadRequestError(f"{key} is set by the server and cannot be changed")
            ignored = serializer_class.input_ignored() - {serializer_class.state_attribute}
            patch = {k: v for k, v in patch.items() if k not in ignored}
            update_name = f"{tmf_type}_Update"
            spec = serializer_class.spec
            if update_name not in spec.definitions:
                update_name = f"{tmf_type}_Create"
            self._check_spec(update_name, without_nulls(patch), partial=True)
            merged = merge_patch(current, patch)
            self._check_required(f"{tmf_type}_Create", merged)
            data = {key: merged.get(key) for key in patch}
            serializer = self.get_serializer(obj, data=data, partial=True)
            serializer.is_valid(raise_exception=True)
            obj = serializer.save()
            document = self.represent(self._fresh(obj))
        return Response(document)

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            self.perform_destroy(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_destroy(self, obj) -> None:
        raise NotImplementedError

    # --------------------------------------------------------------------- helpers
    def _fresh(self, obj):
        """The object re-read through the viewset's queryset (prefetches, current values)."""
        return self.get_queryset().filter(pk=obj.pk).first() or obj

    @staticmethod
    def _body(request) -> dict:
        data = request.data
        if not isinstance(data, dict):
            raise TmfBadRequestError("the request body must be a JSON object")
        if contains_nul(data):
            raise TmfBadRequestError("text must not contain NUL (U+0000) characters")
        return dict(data)

    def _check_spec(self, definition: str, body: dict, *, partial: bool) -> None:
        problems = self.get_serializer_class().spec.problems(definition, body, partial=partial)
        if problems:
            raise TmfBadRequestError("; ".join(problems[:10]))

    def _check_required(self, definition: str, document: dict) -> None:
        spec = self.get_serializer_class().spec
        if definition not in spec.definitions:  # a resource the spec never creates
            return
        required = spec.definitions[definition].get("required", [])
        missing = [name for name in required if document.get(name) in (None, "")]
        if missing:
            raise TmfBadRequestError(
                f"{spec.prefix} {definition}: mandatory attribute(s) cannot be removed: "
                + ", ".join(missing)
            )
