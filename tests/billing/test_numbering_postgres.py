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


def test_reserving_blocks_and_single_numbers_concurrently_leaves_no_gap(db):
    """A billing run reserves a chunk's invoice numbers at once (`sequence_reserve`) while
    single invoices are issued (`sequence_next`): every value is handed out once, and a
    rolled-back reservation gives its whole block back."""
    from fulfillment.models import Sequence
    from fulfillment.services.common import sequence_next, sequence_reserve

    name = "invoice-test-block"
    counts = [3, 1, 5, 1, 2, 1]  # 5 is rolled back
    start = threading.Barrier(len(counts), timeout=30)
    taken: list[int] = []
    errors = []

    class RollbackError(Exception):
        pass

    def take(count, fail):
        try:
            start.wait()
            with transaction.atomic():
                if count == 1:
                    values = [sequence_next(name)]
                else:
                    first = sequence_reserve(name, count)
                    values = list(range(first, first + count))
                if fail:
                    raise RollbackError
            taken.extend(values)
        except RollbackError:
            pass
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(count, count == 5)) for count in counts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(taken) == list(range(1, 9))
    assert Sequence.objects.get(name=name).last_value == 8
