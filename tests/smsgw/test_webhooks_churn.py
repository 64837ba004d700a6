"""Signed webhooks with retries, and the daily churn analysis with a moving clock."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from customers.models import ChurnWarning
from smsgw import outbox, webhooks
from smsgw.models import DailyUsage, WebhookDelivery
from smsgw.services import churn_analysis_run, sms_enqueue
from tests.fulfillment.factories import committing

from .factories import registered_numbers, sending_subscription

pytestmark = pytest.mark.django_db


class Receiver:
    """An HTTP listener that fails the first `failures` POSTs with 500, keeping headers."""

    def __init__(self, failures=0):
        receiver = self
        self.failures = failures
        self.requests = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.headers, body))
                status = 500 if len(receiver.requests) <= receiver.failures else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def _deliver_one(sub):
    sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub)[:1], text="x")
    items = outbox.outbox_claim(sender="a", sp_ids=[sub.account.sp_id], limit=10)
    outbox.submit_results_record(
        [outbox.SubmitOutcome(i.segment_id, i.message_id, 7000 + n, 0) for n, i in enumerate(items)]
    )
    with committing():
        outbox.reports_record([outbox.ReportIn(7000, "DELIVRD")])


def test_delivery_report_is_posted_signed(clock, manager):
    sub = sending_subscription(manager, recipients=1)
    receiver = Receiver()
    _endpoint, secret = webhooks.webhook_configure(
        enterprise_id=sub.enterprise_id, url=receiver.url
    )
    try:
        _deliver_one(sub)
    finally:
        receiver.close()

    ((headers, body),) = receiver.requests
    assert webhooks.verify(secret, body, headers["X-MAS-Signature"])
    assert not webhooks.verify("wrong", body, headers["X-MAS-Signature"])
    payload = json.loads(body)
    assert payload["event"] == "report" and payload["state"] == "delivered"
    assert payload["segments"][0]["msgId"] == "7000" and payload["segments"][0]["stat"] == "DELIVRD"
    assert headers["X-MAS-Event"] == "report"
    assert WebhookDelivery.objects.get().state == WebhookDelivery.State.DELIVERED


def test_failed_posts_are_retried_then_given_up(clock, manager, settings):
    sub = sending_subscription(manager, recipients=1)
    receiver = Receiver(failures=2)
    webhooks.webhook_configure(enterprise_id=sub.enterprise_id, url=receiver.url)
    try:
        _deliver_one(sub)
    finally:
        receiver.close()
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == WebhookDelivery.State.DELIVERED and delivery.attempts == 3
    assert len(receiver.requests) == 3

    settings.SMSGW_WEBHOOK_MAX_ATTEMPTS = 2
    dead = Receiver(failures=99)
    webhooks.webhook_configure(enterprise_id=sub.enterprise_id, url=dead.url)
    try:
        sms_enqueue(subscription_id=sub.pk, recipients=registered_numbers(sub)[:1], text="y")
        items = outbox.outbox_claim(sender="a", sp_ids=[sub.account.sp_id], limit=10)
        outbox.submit_results_record(
            [outbox.SubmitOutcome(items[0].segment_id, items[0].message_id, 8000, 0)]
        )
        with committing():
            outbox.reports_record([outbox.ReportIn(8000, "UNDELIV")])
    finally:
        dead.close()
    failed = WebhookDelivery.objects.latest("id")
    assert failed.state == WebhookDelivery.State.FAILED and failed.attempts == 2


def test_replies_are_posted_to_the_webhook(clock, manager):
    sub = sending_subscription(manager, recipients=1)
    receiver = Receiver()
    webhooks.webhook_configure(
        enterprise_id=sub.enterprise_id, url=receiver.url, send_reports=False
    )
    try:
        with committing():
            outbox.replies_record(
                [
                    outbox.ReplyIn(
                        sub.account.sp_id, "13900001111", sub.account.service_code, "好的", 1
                    )
                ]
            )
    finally:
        receiver.close()
    payload = json.loads(receiver.requests[0][1])
    assert payload["event"] == "reply" and payload["text"] == "好的"


def _usage(sub, days_back, volume, today):
    for back in days_back:
        DailyUsage.objects.update_or_create(
            subscription=sub,
            day=today - dt.timedelta(days=back),
            defaults={"submitted_segments": volume},
        )


def test_five_idle_days_raise_a_no_usage_warning_once(clock, manager):
    sub = sending_subscription(manager, recipients=0)
    for _day in range(10):  # ten busy days
        DailyUsage.objects.create(subscription=sub, day=clock.today(), submitted_segments=100)
        clock.advance(days=1)
    raised_on = []
    for idle in range(1, 8):  # then silence; the analysis runs each morning
        raised = churn_analysis_run()
        raised_on.extend(idle for _w in raised)
        clock.advance(days=1)

    # the morning after the fifth silent day
    assert raised_on == [6]
    warning = ChurnWarning.objects.get()
    assert warning.kind == ChurnWarning.Kind.NO_USAGE and warning.manager == manager


def test_a_new_subscription_is_not_flagged_idle(clock, manager):
    sending_subscription(manager, recipients=0)
    assert churn_analysis_run(today=clock.today()) == []


def test_volume_drop_against_the_previous_30_days(clock, manager, settings):
    settings.SMSGW_CHURN_DROP_SHARE = "0.5"
    sub = sending_subscription(manager, recipients=0)
    today = clock.today()
    _usage(sub, range(8, 38), 1000, today)
    _usage(sub, range(1, 8), 400, today)
    # activated long ago enough
    type(sub).objects.filter(pk=sub.pk).update(activated_at=clock.now() - dt.timedelta(days=60))

    raised = churn_analysis_run(today=today)

    assert [w.kind for w in raised] == [ChurnWarning.Kind.VOLUME_DROP]
    assert "下降60%" in raised[0].detail
    _usage(sub, range(1, 8), 600, today)
    ChurnWarning.objects.all().delete()
    assert churn_analysis_run(today=today) == []
