"""Helpers for TMF API tests: a JSON client with a bearer token, and the specifications.

`TmfClient(token)` speaks JSON to the API the way an integration does; `staff_token(user,
role)` issues a token. `spec_problems(prefix, definition, document)` validates a response
against a v4 swagger definition from ../shared/reference/tmf (falling back to the copies
kept with the apps), resolving `#/definitions/...` references.
"""

import functools
import json
from pathlib import Path

from django.test import Client
from jsonschema import Draft4Validator

from customers import services as customer_services

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO.parent / "shared" / "reference" / "tmf"
SPEC_FILES = {
    "TMF620": ("TMF620-ProductCatalog-v4.0.0.swagger.json", "product_lifecycle/api"),
    "TMF629": ("TMF629-Customer-v4.0.0.swagger.json", "customers/api"),
    "TMF622": ("TMF622-ProductOrder-v4.0.0.swagger.json", "fulfillment/api"),
    "TMF621": ("TMF621-TroubleTicket-v4.0.0.swagger.json", "assurance/api"),
    "TMF678": ("TMF678-CustomerBill-v4.0.0.swagger.json", "billing/api"),
}
CATALOG = "/tmf-api/productCatalogManagement/v4"
CUSTOMER = "/tmf-api/customerManagement/v4"
ORDERING = "/tmf-api/productOrderingManagement/v4"
TROUBLE = "/tmf-api/troubleTicket/v4"


def issue_token(user, role, *, enterprise=None, name="测试集成") -> str:
    """A bearer token for `user` acting in `role` (a core.roles.Role or "")."""
    _token, secret = customer_services.api_token_issue(
        user=user,
        role=str(role.value if hasattr(role, "value") else role),
        name=name,
        enterprise_id=enterprise.pk if enterprise is not None else None,
        by=None,
    )
    return secret


class TmfClient:
    """Django's test client with `Authorization: Bearer`, JSON bodies and decoded answers."""

    def __init__(self, token: str | None = None):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def _call(self, method, path, body=None, content_type="application/json", **extra):
        kwargs = {**self.headers, **extra}
        if body is not None:
            data = body if isinstance(body, bytes | str) else json.dumps(body)
            return getattr(self.client, method)(
                path, data=data, content_type=content_type, **kwargs
            )
        return getattr(self.client, method)(path, **kwargs)

    def get(self, path, **extra):
        return self._call("get", path, **extra)

    def post(self, path, body, **extra):
        return self._call("post", path, body, **extra)

    def patch(self, path, body, content_type="application/merge-patch+json", **extra):
        return self._call("patch", path, body, content_type=content_type, **extra)

    def delete(self, path, **extra):
        return self._call("delete", path, **extra)

    def put(self, path, body, **extra):
        return self._call("put", path, body, **extra)


def assert_tmf_error(response, status: int) -> dict:
    """The response is the TMF error body with this status; returns it."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert {"code", "reason", "message", "status"} <= set(body), body
    assert body["status"] == str(status)
    assert body["referenceError"].startswith("http")
    assert not spec_problems("TMF620", "Error", body)
    return body


@functools.cache
def _definitions(prefix: str) -> dict:
    name, fallback = SPEC_FILES[prefix]
    path = REFERENCE / name
    if not path.exists():
        path = REPO / fallback / name
    return json.loads(path.read_text(encoding="utf-8"))["definitions"]


@functools.cache
def _validator(prefix: str, definition: str) -> Draft4Validator:
    definitions = _definitions(prefix)
    return Draft4Validator({"$ref": f"#/definitions/{definition}", "definitions": definitions})


def spec_problems(prefix: str, definition: str, document) -> list[str]:
    """How `document` breaks the specification's definition (empty when it conforms)."""
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message[:200]}"
        for error in _validator(prefix, definition).iter_errors(document)
    ]


class CallbackReceiver:
    """A real HTTP listener in a thread: answers `failures` requests with 500, then 201.

    Use as a context manager; `.url` is its callback address and `.received` the JSON
    bodies it got, in order, with `.statuses` what it answered.
    """

    def __init__(self, failures: int = 0):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self
        self.failures = failures
        self.received: list[dict] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length).decode("utf-8"))
                with receiver._lock:
                    receiver.received.append(body)
                    status = 500 if len(receiver.received) <= receiver.failures else 201
                    receiver.statuses.append(status)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/listener"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
