"""TM Forum Open API building blocks, implementing ../shared/docs/TMF-CONVENTIONS.md once.

An app's TMF API is a few declarations (see product_lifecycle/api and customers/api):

- `core.tmf.spec.TmfSpec`: the specification's swagger file, kept with the app's API;
  request bodies are validated against its `<Type>_Create` / `<Type>_Update`
  definitions and the OpenAPI document uses its definitions.
- `core.tmf.serializers.TmfSerializer`: one per resource; `represent(obj)` gives the
  attributes, DRF fields read the input, `create`/`update` call the app's services.
  `split_refs`/`split_ref` resolve references and keep unknown ones (dangling).
- `core.tmf.views.TmfViewSet`: list/retrieve/create/patch/delete with paging, count
  headers, filters (`core.tmf.filters`), `fields=`, merge patch, the error body
  (`core.tmf.errors`); override `get_queryset` to scope rows and `perform_destroy`.
- `core.tmf.hub.hub_viewset` and `core.tmf.urls.tmf_urlpatterns`: the routes, the hub,
  trailing-slash tolerance, the TMF 404 and the OpenAPI description.
- `core.tmf.events.publish(...)`: called by services inside their transaction to
  put an event in the outbox for the matching hub subscribers (delivered by Celery).
- `core.tmf.access`: who may call (model permissions, token roles, enterprise callers
  via the TMF_REQUEST_ENTERPRISE setting).
- `core.tmf.states.StateMap`: an open TMF state string onto a domain state machine.

The modules are imported individually (this package imports nothing itself), so that
services can import `core.tmf.events` without loading DRF views.
"""
