"""Reading from a PostgreSQL replica for read-heavy pages, off unless one is configured.

With `DATABASE_REPLICA_URL` set, settings add a `replica` database and install
`ReplicaRouter`. Reads still go to the primary by default: a streaming replica lags, and
a page that has just written must read its own write. Only code that says so reads from
the replica — a view decorated with `@reads_from_replica`, or a block inside
`with replica():` — typically dashboards, reports and exports. Writes always go to the
primary, and inside a block a write makes the rest of the block read the primary too.
Without a replica both are no-ops, so callers need not know how the site is deployed.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings

REPLICA_ALIAS = "replica"
_use_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("use_replica", default=False)


def replica_configured() -> bool:
    """True when settings define the replica database."""
    return REPLICA_ALIAS in settings.DATABASES


@contextmanager
def replica() -> Iterator[None]:
    """Within the block, reads (that are not in a transaction) go to the replica."""
    token = _use_replica.set(True)
    try:
        yield
    finally:
        _use_replica.reset(token)


def reads_from_replica(view: Callable) -> Callable:
    """Decorate a read-only view so that its queries use the replica when there is one."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        with replica():
            return view(*args, **kwargs)

    return wrapped


class ReplicaRouter:
    """Routes reads to the replica only inside `replica()`; everything else to the primary.

    Both aliases hold the same database, so relations between their objects are allowed
    and migrations run on the primary only (the replica receives them by replication).
    """

    def db_for_read(self, model, **hints):
        if not _use_replica.get() or not replica_configured():
            return None
        from django.db import connections

        # Inside a transaction on the primary, read there: the replica cannot see it.
        if connections["default"].in_atomic_block:
            return "default"
        return REPLICA_ALIAS

    def db_for_write(self, model, **hints):
        # A write ends replica reads for the rest of the block (read-your-writes).
        _use_replica.set(False)
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
