"""One Celery beat at a time: a scheduler that only ticks while it holds a lock.

Several machines may run `celery beat` (a hot standby survives the loss of one); only the
one holding the lock sends periodic tasks, the others check again every few seconds.
The lock lives where the deployment already has shared state:

- Redis (`CELERY_BEAT_LOCK_URL`, or the broker when it is Redis): a key set with NX and a
  TTL, renewed on every tick; a beat that dies loses it after `CELERY_BEAT_LOCK_TTL`.
- PostgreSQL otherwise: a session advisory lock on a connection of its own; the server
  releases it when that connection goes away, however the process ended.
- A file lock under `var/` (fcntl) for the single-machine, SQLite set-up.

Install with `CELERY_BEAT_SCHEDULER = "core.beat:LockedScheduler"` (settings do).
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import uuid
from pathlib import Path

from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger(__name__)

LOCK_NAME = "mas:celery-beat"
ADVISORY_KEY = 0x4D41_5342  # "MASB"


class RedisLock:
    """SET NX PX with a token; renew and release only while the token is still ours."""

    _RENEW = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then "
        "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
    )
    _RELEASE = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then "
        "return redis.call('del', KEYS[1]) else return 0 end"
    )

    def __init__(self, url: str, ttl_seconds: int):
        import redis

        self.client = redis.Redis.from_url(url)
        self.ttl_ms = ttl_seconds * 1000
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"

    def acquire(self) -> bool:
        return bool(self.client.set(LOCK_NAME, self.token, nx=True, px=self.ttl_ms))

    def renew(self) -> bool:
        return bool(self.client.eval(self._RENEW, 1, LOCK_NAME, self.token, self.ttl_ms))

    def release(self) -> None:
        self.client.eval(self._RELEASE, 1, LOCK_NAME, self.token)

    def holder(self) -> str:
        value = self.client.get(LOCK_NAME)
        return value.decode() if value else ""


class PostgresLock:
    """pg_try_advisory_lock on a dedicated connection (not Django's, which may be closed)."""

    def __init__(self, dsn_settings: dict):
        self.settings = dsn_settings
        self.connection = None

    def _connect(self):
        import psycopg

        s = self.settings
        self.connection = psycopg.connect(
            host=s.get("HOST") or None,
            port=s.get("PORT") or None,
            user=s.get("USER") or None,
            password=s.get("PASSWORD") or None,
            dbname=s["NAME"],
            autocommit=True,
            application_name="celery-beat-lock",
        )

    def acquire(self) -> bool:
        if self.connection is None or self.connection.closed:
            self._connect()
        row = self.connection.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_KEY]).fetchone()
        return bool(row[0])

    def renew(self) -> bool:
        try:
            self.connection.execute("SELECT 1")
        except Exception:
            logger.warning("beat lock connection lost; standing by")
            self.connection = None
            return False
        return True

    def release(self) -> None:
        if self.connection is not None and not self.connection.closed:
            self.connection.close()

    def holder(self) -> str:
        return ""


class FileLock:
    """An exclusive, non-blocking flock on a file; the kernel drops it when the process dies."""

    def __init__(self, path: Path):
        self.path = path
        self.handle = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 (held open for the life of the lock)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self.handle = handle
        return True

    def renew(self) -> bool:
        return self.handle is not None

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None

    def holder(self) -> str:
        return ""


def beat_lock():
    """The lock for this deployment (see the module docstring for the order)."""
    url = getattr(settings, "CELERY_BEAT_LOCK_URL", "") or settings.CELERY_BROKER_URL
    ttl = getattr(settings, "CELERY_BEAT_LOCK_TTL", 60)
    if url.startswith(("redis://", "rediss://")):
        return RedisLock(url, ttl)
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.postgresql":
        return PostgresLock(database)
    return FileLock(Path(settings.VAR_DIR) / "celerybeat.lock")


class LockedScheduler(PersistentScheduler):
    """A PersistentScheduler that sends nothing unless this process holds the beat lock."""

    standby_interval = 5.0

    def __init__(self, *args, **kwargs):
        self.lock = beat_lock()
        self.holding = False
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs):
        if self.holding and not self.lock.renew():
            self.holding = False
            logger.warning("beat lost its lock; standing by")
        if not self.holding:
            self.holding = self.lock.acquire()
            if not self.holding:
                logger.info("another beat holds the lock; standing by")
                return self.standby_interval
            logger.info("beat lock acquired; sending periodic tasks")
        interval = super().tick(*args, **kwargs)
        # Renew well within the TTL even when the next task is far away.
        return min(interval, max(1.0, getattr(settings, "CELERY_BEAT_LOCK_TTL", 60) / 3))

    def close(self):
        super().close()
        if self.holding:
            self.lock.release()
            self.holding = False
