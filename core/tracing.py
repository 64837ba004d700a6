"""A trace id that follows one piece of work across processes, for the logs.

The id is in a context variable. It is set by:
- `RequestIdMiddleware` for each HTTP request: the caller's `X-Request-ID` when it looks
  sane (a reverse proxy or the enterprise's system may send one), else a new one; the
  response carries it back in `X-Request-ID`;
- Celery: `before_task_publish` copies the current id into the task's headers
  (`trace_id`), and `task_prerun` restores it in the worker, so a task queued by a
  request logs under the request's id, and so do the tasks it queues in turn;
- any long-running process (the SMS sender) with `with trace(row.trace_id): ...` for each
  unit of work it picks up — the id must be stored with the work (e.g. on the outbox row)
  where the work crosses a process boundary that is not a Celery task.

`core.logging.ContextFilter` puts the id on every log record as `trace_id`.
"""

from __future__ import annotations

import contextvars
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

HEADER = "X-Request-ID"
CELERY_HEADER = "trace_id"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_trace_id: contextvars.ContextVar[str] = contextvars.ContextVar("trace_id", default="")


def new_trace_id() -> str:
    """A fresh id: 32 hex digits."""
    return uuid.uuid4().hex


def current_trace_id() -> str:
    """The id of the work in progress, or "" outside any."""
    return _trace_id.get()


def clean_trace_id(value: str | None) -> str:
    """`value` if it is an acceptable id (8-64 of [A-Za-z0-9._:-]), else a new id."""
    if value and _VALID.match(value):
        return value
    return new_trace_id()


@contextmanager
def trace(trace_id: str | None = None) -> Iterator[str]:
    """Run a block under `trace_id` (a new one when empty); yields the id in force."""
    token = _trace_id.set(clean_trace_id(trace_id))
    try:
        yield _trace_id.get()
    finally:
        _trace_id.reset(token)


def bind(trace_id: str | None) -> str:
    """Set the id for the rest of the current context, without a reset; returns it.

    For a unit of work that owns its context and ends with it: an asyncio task (each
    task runs in a copy of its creator's context, so the id does not leak to siblings),
    e.g. the sender's one task per segment. Elsewhere use `trace()`.
    """
    value = clean_trace_id(trace_id)
    _trace_id.set(value)
    return value


class RequestIdMiddleware:
    """Gives every request a trace id (see the module docstring) and echoes it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with trace(request.headers.get(HEADER)) as trace_id:
            request.trace_id = trace_id
            response = self.get_response(request)
            response[HEADER] = trace_id
            return response


def _on_publish(headers=None, **kwargs):
    trace_id = current_trace_id()
    if headers is not None and trace_id and not headers.get(CELERY_HEADER):
        headers[CELERY_HEADER] = trace_id


_task_tokens: dict[str, contextvars.Token] = {}


def _on_prerun(task_id=None, task=None, **kwargs):
    value = None
    if task is not None:
        value = getattr(task.request, CELERY_HEADER, None) or (task.request.headers or {}).get(
            CELERY_HEADER
        )
    # Run eagerly (tests, the embedded set-up) the task keeps the caller's id.
    _task_tokens[task_id] = _trace_id.set(clean_trace_id(value or current_trace_id()))


def _on_postrun(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        try:
            _trace_id.reset(token)
        except ValueError:
            _trace_id.set("")


def connect_celery_signals() -> None:
    """Propagate the trace id through Celery task headers (called from CoreConfig.ready)."""
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(_on_publish, dispatch_uid="core.tracing.publish", weak=False)
    task_prerun.connect(_on_prerun, dispatch_uid="core.tracing.prerun", weak=False)
    task_postrun.connect(_on_postrun, dispatch_uid="core.tracing.postrun", weak=False)
