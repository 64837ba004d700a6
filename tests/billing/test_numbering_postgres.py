"""Gapless invoice numbers under concurrent issuing on PostgreSQL: parallel transactions,
each on its own connection, all issuing at once; one rolls back and gives its number back."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from billing import services
from billing.models import Invoice
from tests.billing.factories import account_of, freeze_on, subscription_activated
from tests.fulfillment.factories import inventory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_issuing_leaves_no_gap_and_no_duplicate(clock, manager):
    inventory(codes=6, ports=6)
    subs = [subscription_activated(manager, dt.date(2026, 10, 1)) for _ in range(6)]
    freeze_on(dt.date(2026, 12, 17))
    drafts = []
    for sub in subs:
        drafts.append(
            Invoice.objects.create(
                account=account_of(sub),
                kind=Invoice.Kind.QUARTERLY,
                period_start=dt.date(2027, 1, 1),
                period_end=dt.date(2027, 4, 1),
                due_on=dt.date(2027, 1, 1),
            )
        )
    start = threading.Barrier(len(drafts), timeout=30)
    errors = []

    class RollbackError(Exception):
        pass

    def issue(draft, fail):
        try:
            start.wait()
            with transaction.atomic():
                services.invoice_issue(invoice_id=draft.pk, by=None)
                if fail:
                    raise RollbackError
        except RollbackError:
            pass
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=issue, args=(draft, index == 2))
        for index, draft in enumerate(drafts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    numbers = sorted(Invoice.objects.exclude(number="").values_list("number", flat=True))
    assert numbers == [f"2026{n:07d}" for n in range(1, 6)]
    assert Invoice.objects.filter(state="draft").count() == 1
