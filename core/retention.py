"""Retention of personal data: purge or pseudonymise registered fields after N days.

PIPL (个人信息保护法) art. 19: personal information is kept no longer than the purpose
needs. Message text and recipient numbers are needed to send, to answer complaints and
to reconcile bills — not forever. Each app registers what it keeps, in AppConfig.ready:

    from core.retention import RetentionPolicy, register, mask_mobile_value
    register(RetentionPolicy(
        name="smsgw.outbox",                 # shown in logs, metrics and the command
        model="smsgw.OutboxMessage",
        date_field="created_at",             # age is measured from this field
        action="pseudonymise",               # or "purge" (delete the rows)
        fields={"text": "", "msisdn": mask_mobile_value},
        pending=~Q(text=""),                 # rows not yet done (required with callables)
        only=Q(state__in=["delivered", "failed", "expired"]),  # never touch work in flight
    ))

Constants are written with one UPDATE per batch; callables (old value → new value) with
a bulk_update. Statistics columns (state, counts, timestamps, enterprise, account) stay,
so delivery statistics and bills are unaffected.

The job (`core.tasks.retention_run_task`, daily from beat, or `manage.py retention`)
works in batches of RETENTION_BATCH_SIZE rows, each in its own short transaction; on
PostgreSQL it skips rows another process has locked (`SKIP LOCKED`) rather than wait,
and pauses between batches. No long lock, no long transaction; an interrupted run just
continues next time.

Days: RETENTION_DAYS (default 180) for all policies; a policy can name its own setting
(`days_setting`) or fix `days`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from core import clock
from core.phone import mask_mobile

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionPolicy:
    """What to do with one model's rows once they are older than the retention period."""

    name: str
    model: str
    date_field: str
    action: str = "pseudonymise"
    fields: dict[str, Any] = field(default_factory=dict)
    pending: Q | None = None
    only: Q | None = None
    days: int | None = None
    days_setting: str | None = None

    def __post_init__(self):
        if self.action not in ("purge", "pseudonymise"):
            raise ValueError("action must be 'purge' or 'pseudonymise'")
        if self.action == "pseudonymise":
            if not self.fields:
                raise ValueError(f"{self.name}: pseudonymise needs fields")
            if self.pending is None and any(callable(v) for v in self.fields.values()):
                raise ValueError(f"{self.name}: callables in fields need a `pending` condition")

    @property
    def model_class(self):
        return apps.get_model(self.model)

    def retention_days(self) -> int:
        if self.days is not None:
            return self.days
        if self.days_setting:
            return int(getattr(settings, self.days_setting, settings.RETENTION_DAYS))
        return int(settings.RETENTION_DAYS)

    def cutoff(self, now=None):
        import datetime as dt

        return (now or clock.now()) - dt.timedelta(days=self.retention_days())

    def due(self, now=None):
        """The rows this policy still has to handle."""
        queryset = self.model_class._default_manager.filter(
            **{f"{self.date_field}__lt": self.cutoff(now)}
        )
        if self.only is not None:
            queryset = queryset.filter(self.only)
        if self.pending is not None:
            queryset = queryset.filter(self.pending)
        elif self.action == "pseudonymise":
            not_done = Q()
            for name, value in self.fields.items():
                not_done |= ~Q(**{name: value})
            queryset = queryset.filter(not_done)
        return queryset


_policies: dict[str, RetentionPolicy] = {}


def register(policy: RetentionPolicy) -> RetentionPolicy:
    """Add (or replace) a policy; apps call this in AppConfig.ready."""
    _policies[policy.name] = policy
    return policy


def unregister(name: str) -> None:
    """Remove a policy (tests)."""
    _policies.pop(name, None)


def policies() -> list[RetentionPolicy]:
    """The registered policies, in registration order."""
    return list(_policies.values())


def pseudonym(value: str, *, length: int = 16) -> str:
    """A stable keyed hash of `value` (HMAC-SHA256, RETENTION_PSEUDONYM_KEY or SECRET_KEY).

    The same number gives the same pseudonym, so distinct-recipient counts survive, but
    without the key it cannot be turned back into the number.
    """
    if not value:
        return value
    key = (settings.RETENTION_PSEUDONYM_KEY or settings.SECRET_KEY).encode()
    return "p:" + hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()[:length]


def mask_mobile_value(value: str) -> str:
    """A number reduced to 138****8000 (fits the 11-character column; idempotent)."""
    return mask_mobile(value) if value and "*" not in value else value


def _batch_ids(policy: RetentionPolicy, now, batch_size: int) -> list:
    queryset = policy.due(now).order_by(policy.model_class._meta.pk.name)
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    return list(queryset.values_list("pk", flat=True)[:batch_size])


def _apply(policy: RetentionPolicy, ids: list) -> int:
    model = policy.model_class
    rows = model._default_manager.filter(pk__in=ids)
    if policy.action == "purge":
        deleted, _ = rows.delete()
        return len(ids) if deleted else 0
    constants = {k: v for k, v in policy.fields.items() if not callable(v)}
    functions: dict[str, Callable] = {k: v for k, v in policy.fields.items() if callable(v)}
    if functions:
        objects = list(rows.only("pk", *functions))
        for obj in objects:
            for name, func in functions.items():
                setattr(obj, name, func(getattr(obj, name)))
            for name, value in constants.items():
                setattr(obj, name, value)
        model._default_manager.bulk_update(objects, [*functions, *constants])
        return len(objects)
    return rows.update(**constants)


def run_policy(
    policy: RetentionPolicy,
    *,
    now=None,
    batch_size: int | None = None,
    max_batches: int | None = None,
    pause: float | None = None,
) -> int:
    """Handle this policy's due rows in short batches; returns the number of rows handled."""
    now = now or clock.now()
    batch_size = batch_size or settings.RETENTION_BATCH_SIZE
    pause = settings.RETENTION_BATCH_PAUSE_SECONDS if pause is None else pause
    handled = batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            ids = _batch_ids(policy, now, batch_size)
            if not ids:
                break
            handled += _apply(policy, ids)
        batches += 1
        if len(ids) < batch_size:
            break
        if pause:
            time.sleep(pause)
    if handled:
        logger.info(
            "retention %s: %s %d rows older than %d days",
            policy.name,
            "purged" if policy.action == "purge" else "pseudonymised",
            handled,
            policy.retention_days(),
            extra={"policy": policy.name, "rows": handled},
        )
    return handled


def run_all(**kwargs) -> dict[str, int]:
    """Run every registered policy; one failing policy does not stop the others."""
    results = {}
    for policy in policies():
        try:
            results[policy.name] = run_policy(policy, **kwargs)
        except Exception:
            logger.exception("retention %s failed", policy.name)
            results[policy.name] = -1
    return results


def rows_due_samples():
    """Metric provider: rows past retention per policy (mas_retention_rows_due)."""
    return [({"policy": policy.name}, policy.due().count()) for policy in policies()]
