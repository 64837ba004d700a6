"""Helpers shared by the fulfillment services: counters, errors, task dispatch."""

from django.db import IntegrityError, transaction

from ..models import Sequence


class ProvisioningError(Exception):
    """A provisioning step cannot succeed (e.g. the pool is exhausted): the item fails."""


class TransientProvisioningError(Exception):
    """A provisioning step failed for a reason that may pass: the step is retried."""


class StepRetryError(Exception):
    """Raised to the task after a transient failure was recorded; the task retries."""


SEQUENCE_CONTRACT = "contract"
SEQUENCE_SP_ID = "sp_id"


def sequence_next(name: str) -> int:
    """The next value of a gapless counter, inside the caller's transaction.

    The row is locked until the caller commits, so concurrent callers wait and each gets
    its own value; a rolled-back caller gives its value back.
    """
    return sequence_reserve(name, 1)


def sequence_reserve(name: str, count: int) -> int:
    """Reserve `count` consecutive values of a gapless counter with one update, inside the
    caller's transaction; returns the first (a billing run numbers a chunk's invoices at
    once). Same locking as `sequence_next`: the row stays locked until the caller commits
    and a rollback gives every value back, so the counter stays gapless as long as the
    caller uses all `count` values."""
    if count < 1:
        raise ValueError("count must be at least 1")
    try:
        sequence = Sequence.objects.select_for_update().get(name=name)
    except Sequence.DoesNotExist:
        try:
            with transaction.atomic():
                Sequence.objects.create(name=name, last_value=0)
        except IntegrityError:
            pass
        sequence = Sequence.objects.select_for_update().get(name=name)
    first = sequence.last_value + 1
    sequence.last_value += count
    sequence.save(update_fields=["last_value"])
    return first


def dispatch(task, *args) -> None:
    """Send `task` with `args` to Celery once the current transaction has committed."""
    transaction.on_commit(lambda: task.delay(*args))
