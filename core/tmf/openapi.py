"""The TMF APIs in the one OpenAPI document (drf-spectacular).

Request and response bodies are the specifications' own definitions: each used
definition of a registered `TmfSpec` becomes a component named `<prefix>_<Definition>`
(`TMF620_ProductOffering`), added by `tmf_components_hook` (a POSTPROCESSING_HOOK).
`document_resource` / `document_hub` describe a viewset's operations; they are applied
by `core.tmf.urls.tmf_urlpatterns`, so an app writes nothing for its documentation.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)

from .spec import registered_specs
from .views import max_limit

_ERRORS = {
    400: "Bad Request: the body breaks the specification or a domain rule",
    401: "Unauthorized: no or invalid credentials (Authorization: Bearer <token>)",
    403: "Forbidden: the caller's role does not allow this operation",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict: the state machine or a domain rule refuses the change",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
}


def _errors(spec, *codes: int) -> dict:
    return {
        code: OpenApiResponse(response=spec.ref("Error"), description=_ERRORS[code])
        for code in codes
    }


def _id_parameter(description: str) -> OpenApiParameter:
    return OpenApiParameter("id", OpenApiTypes.STR, OpenApiParameter.PATH, description=description)


def _fields_parameter() -> OpenApiParameter:
    return OpenApiParameter(
        "fields",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="Comma-separated attributes to return (a collection adds id and href)",
    )


def document_resource(viewset, *, resource: str) -> None:
    """Describe the list/create/retrieve/patch/delete operations of a TmfViewSet."""
    serializer = viewset.serializer_class
    spec, tmf_type = serializer.spec, serializer.tmf_type
    tag = f"{spec.prefix} {resource}"
    limit_text = (
        f"Requested number of resources; server maximum {max_limit()} "
        f"(larger values are reduced to it)"
    )
    filters = [
        OpenApiParameter(
            name,
            OpenApiTypes.STR,
            OpenApiParameter.QUERY,
            description=(getattr(declared, "description", "") or f"Exact match on {name}"),
        )
        for name, declared in viewset.filter_fields.items()
    ]
    count_headers = [
        OpenApiParameter(
            "X-Total-Count",
            OpenApiTypes.INT,
            OpenApiParameter.HEADER,
            response=[200],
            description="Total number of items matching criteria",
        ),
        OpenApiParameter(
            "X-Result-Count",
            OpenApiTypes.INT,
            OpenApiParameter.HEADER,
            response=[200],
            description="Actual number of items returned in the response body",
        ),
    ]
    # Read-only resources (TMF678 customerBill, appliedCustomerBillingRate) have no _Create.
    create_name = f"{tmf_type}_Create"
    if create_name not in spec.definitions:
        create_name = tmf_type
    body = spec.ref(create_name)
    update_name = f"{tmf_type}_Update"
    patch_body = spec.ref(update_name if update_name in spec.definitions else create_name)
    extend_schema_view(
        list=extend_schema(
            operation_id=f"list{tmf_type}",
            summary=f"List or find {tmf_type} objects",
            tags=[tag],
            parameters=[
                _fields_parameter(),
                OpenApiParameter(
                    "offset",
                    OpenApiTypes.INT,
                    OpenApiParameter.QUERY,
                    description="Index of the first resource to return (0 = newest)",
                ),
                OpenApiParameter(
                    "limit", OpenApiTypes.INT, OpenApiParameter.QUERY, description=limit_text
                ),
                *filters,
                *count_headers,
            ],
            responses={
                # a list action: drf-spectacular wraps the item schema in an array
                200: OpenApiResponse(
                    response=spec.ref(tmf_type), description="Success, newest first"
                ),
                **_errors(spec, 400, 401, 403, 500),
            },
        ),
        create=extend_schema(
            operation_id=f"create{tmf_type}",
            summary=f"Creates a {tmf_type}",
            tags=[tag],
            request={"application/json": body},
            responses={
                201: OpenApiResponse(response=spec.ref(tmf_type), description="Created"),
                **_errors(spec, 400, 401, 403, 409, 415, 500),
            },
        ),
        retrieve=extend_schema(
            operation_id=f"retrieve{tmf_type}",
            summary=f"Retrieves a {tmf_type} by ID",
            tags=[tag],
            parameters=[_id_parameter(f"Identifier of the {tmf_type}"), _fields_parameter()],
            responses={
                200: OpenApiResponse(response=spec.ref(tmf_type), description="Success"),
                **_errors(spec, 401, 403, 404, 500),
            },
        ),
        partial_update=extend_schema(
            operation_id=f"patch{tmf_type}",
            summary=f"Updates partially a {tmf_type} (JSON Merge Patch)",
            tags=[tag],
            parameters=[_id_parameter(f"Identifier of the {tmf_type}")],
            request={"application/json": patch_body, "application/merge-patch+json": patch_body},
            responses={
                200: OpenApiResponse(response=spec.ref(tmf_type), description="Updated"),
                **_errors(spec, 400, 401, 403, 404, 409, 415, 500),
            },
        ),
        destroy=extend_schema(
            operation_id=f"delete{tmf_type}",
            summary=f"Deletes a {tmf_type}",
            tags=[tag],
            parameters=[_id_parameter(f"Identifier of the {tmf_type}")],
            responses={
                204: OpenApiResponse(description="Deleted"),
                **_errors(spec, 401, 403, 404, 409, 500),
            },
        ),
    )(viewset)


def document_hub(viewset) -> None:
    """Describe `POST /hub` and `DELETE /hub/{id}` of a hub viewset."""
    spec = viewset.spec
    tag = f"{spec.prefix} events subscription"
    extend_schema_view(
        create=extend_schema(
            operation_id=f"registerListener{spec.prefix}",
            summary="Register a listener",
            description=(
                "Subscribe a callback to this API's events. `query` filters them: "
                "`eventType=X` (comma-separated alternatives), dotted attribute paths in the "
                "envelope (`event.customer.status=active`) or in the resource "
                "(`lifecycleStatus=Launched`), terms joined by `&`."
            ),
            tags=[tag],
            request={"application/json": spec.ref("EventSubscriptionInput")},
            responses={
                201: OpenApiResponse(
                    response=spec.ref("EventSubscription"), description="Subscribed"
                ),
                **_errors(spec, 400, 401, 403, 415, 500),
            },
        ),
        destroy=extend_schema(
            operation_id=f"unregisterListener{spec.prefix}",
            summary="Unregister a listener",
            tags=[tag],
            parameters=[_id_parameter("Identifier of the subscription")],
            responses={
                204: OpenApiResponse(description="Deleted"),
                **_errors(spec, 401, 403, 404, 500),
            },
        ),
    )(viewset)


def tmf_components_hook(result, generator, request, public):
    """POSTPROCESSING_HOOK: add the used TMF definitions to `components.schemas`, and mark
    the bodies of TMF operations required (drf-spectacular cannot tell for raw schemas)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    prefixes = set()
    for spec in registered_specs():
        prefixes.add(f"#/components/schemas/{spec.prefix}_")
        for name, schema in spec.components().items():
            schemas.setdefault(name, schema)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if not body:
                continue
            refs = [m.get("schema", {}).get("$ref", "") for m in body.get("content", {}).values()]
            if refs and all(ref.startswith(tuple(prefixes)) for ref in refs):
                body["required"] = True
    return result
