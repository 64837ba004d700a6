"""Structured logs: the trace id across a request and its tasks, personal data masked."""

import json
import logging

import pytest
from celery import shared_task

from core import tracing
from core.logging import ContextFilter, JsonFormatter, PiiMaskingFilter, mask_numbers


def _record(msg, *args, **extra):
    record = logging.LogRecord("mas.test", logging.INFO, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


def _render(record) -> dict:
    ContextFilter().filter(record)
    PiiMaskingFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("to 13800138000 ok", "to 138****8000 ok"),
        ("+8613800138000", "138****8000"),
        ("0086 13912345678,15000001111", "139****5678,150****1111"),
        ("msg id 202611251234567890123 and order 13800138000123", None),
        ("landline 037165432100", None),
    ],
)
def test_numbers_are_masked(text, masked):
    assert mask_numbers(text) == (masked or text)


def test_a_json_line_with_masked_number_and_no_message_text():
    with tracing.trace("abc12345-trace") as trace_id:
        payload = _render(
            _record(
                "submit to %s failed",
                "13800138000",
                text="您的验证码是 123456",
                account="901234",
                msisdn="13912345678",
            )
        )
    assert trace_id == "abc12345-trace"
    assert payload["msg"] == "submit to 138****8000 failed"
    assert payload["trace_id"] == "abc12345-trace"
    assert payload["text"] == "<13 chars>"
    assert payload["msisdn"] == "139****5678"
    assert payload["account"] == "901234"
    assert payload["level"] == "INFO"
    assert "13800138000" not in json.dumps(payload)


def test_exceptions_are_masked_too():
    try:
        raise ValueError("bad recipient 13800138000")
    except ValueError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "oops", (), sys.exc_info())
    payload = _render(record)
    assert "138****8000" in payload["exc"]
    assert "13800138000" not in payload["exc"]


def test_request_id_is_echoed_or_made(client):
    response = client.get("/healthz")  # answered before the trace middleware: no id needed
    response = client.get("/admin/login/", HTTP_X_REQUEST_ID="lb-req-00112233")
    assert response["X-Request-ID"] == "lb-req-00112233"
    response = client.get("/admin/login/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32
    assert tracing.current_trace_id() == ""


seen: list[str] = []


@shared_task
def _record_trace_task():
    seen.append(tracing.current_trace_id())
    logging.getLogger("mas.test").warning("inside the task")


def test_eager_tasks_keep_the_callers_trace(caplog):
    seen.clear()
    with tracing.trace("req-1234567890"):
        _record_trace_task.delay()
    assert seen == ["req-1234567890"]


def test_published_tasks_carry_the_trace_in_their_headers():
    """before_task_publish puts the id in the headers; task_prerun restores it."""
    headers: dict = {}
    with tracing.trace("req-abcdef123456"):
        tracing._on_publish(headers=headers)
    assert headers == {"trace_id": "req-abcdef123456"}

    class Request:
        trace_id = "req-abcdef123456"
        headers = None

    class Task:
        request = Request()

    tracing._on_prerun(task_id="t1", task=Task())
    assert tracing.current_trace_id() == "req-abcdef123456"
    tracing._on_postrun(task_id="t1")
    assert tracing.current_trace_id() == ""


@shared_task
def _chained_trace_task():
    seen.append(("child", tracing.current_trace_id()))


@shared_task
def _parent_trace_task():
    seen.append(("parent", tracing.current_trace_id()))
    _chained_trace_task.delay()


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_logs_under_the_requests_trace():
    """The id goes through the broker in the task headers, and on to the tasks it queues."""
    import time

    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    seen.clear()
    app.conf.task_always_eager = False
    try:
        with start_worker(app, perform_ping_check=False, shutdown_timeout=30):
            with tracing.trace("req-through-broker-1"):
                _parent_trace_task.delay()
            for _ in range(600):  # waits for the worker; no assertion on how long it took
                if len(seen) == 2:
                    break
                time.sleep(0.05)
    finally:
        app.conf.task_always_eager = True
    assert sorted(seen) == [
        ("child", "req-through-broker-1"),
        ("parent", "req-through-broker-1"),
    ]
