"""The long-running sender behind `manage.py smsgw_run`.

One asyncio loop keeps CMPP sessions (`smsgw.cmpp.session.Session`, one per link, up to
the account's `max_links`) for every active account fulfillment provisioned and for
the operator's service accounts, claims due outbox rows, submits their segments within
the window and the licensed rate (split across the links), and records results,
status reports and replies. Database work runs in dedicated threads (`smsgw.outbox`),
batched, so that the loop keeps the links busy meanwhile: on PostgreSQL claims and
writes (results, reports, replies) have a thread and connection each, so a batch is
claimed while the previous one's results are written.

Status reports and replies are acknowledged (DELIVER_RESP) only after the batch that
stored them has committed, so a crash never loses one. Several senders may run at once
on PostgreSQL (SKIP LOCKED claims, leases renewed while submitting).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import close_old_connections, connections

from core import clock, tracing
from core.phone import mask_mobile

from . import outbox
from .cmpp.pdu import ProtocolError, Submit, Version
from .cmpp.session import MoMessage as CmppMo
from .cmpp.session import Report, Session, SessionConfig, SessionError

log = logging.getLogger("smsgw.sender")

SERVICE_ID = "MAS"


@dataclass(frozen=True)
class AccountSpec:
    """What the sender needs of an account, whatever kind it is (subscription or operator)."""

    sp_id: str
    secret: str
    host: str
    port: int
    version: str
    window: int
    rate: int
    links: int
    service_code: str

    def __repr__(self) -> str:
        return f"AccountSpec(sp_id={self.sp_id!r})"


def accounts_load() -> list[AccountSpec]:
    """Active subscription accounts (fulfillment) and active operator accounts."""
    from core import crypto
    from fulfillment.selectors import cmpp_accounts_for_sender

    from .models import OperatorAccount

    specs = [
        AccountSpec(
            sp_id=a.sp_id,
            secret=a.shared_secret,
            host=a.ismg_host,
            port=a.ismg_port,
            version=a.cmpp_version,
            window=a.window_size,
            rate=a.licensed_rate,
            links=max(1, a.max_links),
            service_code=a.service_code,
        )
        for a in cmpp_accounts_for_sender(include_suspended=True)
    ]
    for account in OperatorAccount.objects.filter(is_active=True):
        specs.append(
            AccountSpec(
                sp_id=account.sp_id,
                secret=crypto.decrypt(account.secret_encrypted),
                host=account.ismg_host,
                port=account.ismg_port,
                version=account.cmpp_version,
                window=account.window_size,
                rate=account.licensed_rate,
                links=max(1, account.max_links),
                service_code=account.service_code,
            )
        )
    return specs


@dataclass
class _Account:
    spec: AccountSpec
    sessions: list[Session] = field(default_factory=list)
    in_flight: int = 0
    next_link: int = 0
    submitted: int = 0
    reports: int = 0
    rate_mark: tuple[float, int] = (0.0, 0)
    current_rate: float = 0.0

    def connected(self) -> list[Session]:
        return [s for s in self.sessions if s.connected]

    @property
    def capacity(self) -> int:
        """How many segments may be claimed and in flight: a few windows' worth, or two
        seconds at the licensed rate when that is more, but never more than a quarter of
        a lease can submit (claimed rows must be sent well before their lease runs out)."""
        windows = max(self.spec.window, 1) * max(len(self.sessions), 1) * 4
        wanted = max(windows, min(self.spec.rate * 2, 2000))
        if self.spec.rate:
            wanted = min(wanted, max(int(self.spec.rate * outbox.lease_seconds() / 4), 1))
        return wanted


@dataclass
class SenderStats:
    claimed: int = 0
    submitted: int = 0
    rejected: int = 0
    unanswered: int = 0
    reports: int = 0
    unmatched_reports: int = 0
    replies: int = 0


class Sender:
    """Run with `asyncio.run(Sender().run())`; stop with `sender.stop()`.

    `until_idle` makes `run` return once nothing is due, in flight or awaiting a report
    (benchmarks and tests). `inline_db` runs database calls in the loop's thread (tests
    on SQLite in a transaction); otherwise one worker thread does them.
    """

    def __init__(
        self,
        *,
        sender_id: str | None = None,
        claim_batch: int = 500,
        poll_interval: float = 0.2,
        flush_interval: float = 0.05,
        refresh_interval: float = 10.0,
        housekeeping_interval: float | None = None,
        until_idle: bool = False,
        idle_grace: float = 1.0,
        report_wait: float = 30.0,
        inline_db: bool = False,
        session_options: dict | None = None,
        accounts_loader: Callable[[], list[AccountSpec]] = accounts_load,
    ) -> None:
        self.sender_id = sender_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.claim_batch = claim_batch
        self.poll_interval = poll_interval
        self.flush_interval = flush_interval
        self.refresh_interval = refresh_interval
        lease = outbox.lease_seconds()
        self.housekeeping_interval = housekeeping_interval or max(lease / 3, 0.5)
        self.until_idle = until_idle
        self.idle_grace = idle_grace
        self.report_wait = report_wait
        self._last_progress = time.monotonic()
        self.inline_db = inline_db
        self.session_options = session_options or {}
        self.accounts_loader = accounts_loader
        self.accounts: dict[str, _Account] = {}
        self.stats = SenderStats()
        self._executor = None if inline_db else ThreadPoolExecutor(1, "smsgw-db")
        # Results, reports and replies are written on their own connection on PostgreSQL,
        # overlapping the claims; SQLite has one writer at a time, so it shares the thread.
        self._write_executor = self._executor
        if not inline_db and connections["default"].vendor == "postgresql":
            self._write_executor = ThreadPoolExecutor(1, "smsgw-write")
        # Lease renewal has its own thread and connection, so a slow batch never lets
        # this sender's leases run out (another sender would then send them again).
        self._lease_executor = None if inline_db else ThreadPoolExecutor(1, "smsgw-lease")
        self._stop = asyncio.Event()
        self._results: list[outbox.SubmitOutcome] = []
        self._reports: list[tuple[outbox.ReportIn, asyncio.Future, int]] = []
        self._replies: list[tuple[outbox.ReplyIn, asyncio.Future]] = []
        self._tasks: set[asyncio.Task] = set()
        self._wake = asyncio.Event()

    # -- database thread --------------------------------------------------------

    async def db(self, fn, *args, _executor=None, **kwargs):
        executor = _executor or self._executor
        if executor is None:
            return fn(*args, **kwargs)

        def call():
            close_old_connections()
            return fn(*args, **kwargs)

        return await asyncio.get_running_loop().run_in_executor(executor, call)

    # -- lifecycle --------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> SenderStats:
        """Keep links, claim, submit and record until stopped (or idle with until_idle)."""
        log.info("sender %s starting", self.sender_id)
        await self._refresh_accounts()
        workers = [
            asyncio.create_task(self._claim_loop(), name="claim"),
            asyncio.create_task(self._flush_loop(), name="flush"),
            asyncio.create_task(self._housekeeping_loop(), name="housekeeping"),
        ]
        try:
            await self._stop.wait()
        finally:
            for task in workers[::2]:
                task.cancel()
            await asyncio.gather(workers[0], workers[2], return_exceptions=True)
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=10)
            await self._flush()
            workers[1].cancel()
            await asyncio.gather(workers[1], return_exceptions=True)
            await self._flush()
            with contextlib.suppress(Exception):
                await self.db(outbox.leases_release, sender=self.sender_id)
            await asyncio.gather(
                *(s.close() for a in self.accounts.values() for s in a.sessions),
                return_exceptions=True,
            )
            await self._write_link_states(final=True)
            if self._executor is not None:
                await self.db(connections.close_all)
                await self.db(connections.close_all, _executor=self._lease_executor)
                self._executor.shutdown(wait=True)
                self._lease_executor.shutdown(wait=True)
                if self._write_executor is not self._executor:
                    await self.db(connections.close_all, _executor=self._write_executor)
                    self._write_executor.shutdown(wait=True)
        log.info("sender %s stopped: %s", self.sender_id, self.stats)
        return self.stats

    # -- accounts and links ------------------------------------------------------

    async def _refresh_accounts(self) -> None:
        specs = {s.sp_id: s for s in await self.db(self.accounts_loader)}
        for sp_id in list(self.accounts):
            account = self.accounts[sp_id]
            if sp_id not in specs or specs[sp_id] != account.spec:
                self.accounts.pop(sp_id)
                for session in account.sessions:
                    self._spawn(session.close())
        for sp_id, spec in specs.items():
            if sp_id not in self.accounts:
                self.accounts[sp_id] = account = _Account(spec)
                for link_no in range(1, spec.links + 1):
                    session = self._session(spec, link_no)
                    account.sessions.append(session)
                    self._spawn(self._start_session(session))

    def _session(self, spec: AccountSpec, link_no: int) -> Session:
        version = Version.V20 if spec.version.startswith("2") else Version.V30
        options = {
            "reconnect": True,
            "reconnect_delay": 1.0,
            "reconnect_max_delay": 30.0,
            "response_timeout": 10.0,
        }
        options.update(self.session_options)
        rate = spec.rate / spec.links if spec.rate else None
        config = SessionConfig(
            host=spec.host,
            port=spec.port,
            sp_id=spec.sp_id,
            secret=spec.secret,
            version=version,
            window=spec.window,
            rate=rate,
            name=f"{spec.sp_id}#{link_no}@{spec.host}:{spec.port}",
            **options,
        )
        return Session(config, on_deliver=lambda event: self._on_deliver(spec.sp_id, event))

    async def _start_session(self, session: Session) -> None:
        try:
            await session.start()
        except Exception as exc:  # login refused or ISMG unreachable; keep trying
            log.warning("%s: %s", session.name, exc)
            await asyncio.sleep(5)
            if not self._stop.is_set() and any(
                session in a.sessions for a in self.accounts.values()
            ):
                self._spawn(self._start_session(session))

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- claiming and submitting ---------------------------------------------------

    async def _claim_loop(self) -> None:
        idle_since: float | None = None
        while not self._stop.is_set():
            claimed = 0
            # Claim when a worthwhile batch fits (a claim is a round trip, whatever its
            # size); `_submit` wakes this loop when in-flight rows drop to that level.
            ready = [
                a
                for a in self.accounts.values()
                if a.connected() and a.capacity - a.in_flight >= self._claim_room(a)
            ]
            for account in ready:
                room = min(self.claim_batch, account.capacity - account.in_flight)
                try:
                    items = await self.db(
                        outbox.outbox_claim,
                        sender=self.sender_id,
                        sp_ids=[account.spec.sp_id],
                        limit=max(1, room),
                    )
                except Exception:
                    # The claim's transaction rolled back whole (nothing was leased), e.g.
                    # a deadlock victim or a lost connection: claim again after a pause.
                    log.exception("sender %s: claim failed", self.sender_id)
                    items = []
                claimed += len(items)
                self.stats.claimed += len(items)
                for item in items:
                    account.in_flight += 1
                    self._spawn(self._submit(account, item))
            if claimed:
                idle_since = None
                await asyncio.sleep(0)
                continue
            if self.until_idle and await self._idle():
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since >= self.idle_grace:
                    self.stop()
                    return
            else:
                idle_since = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            self._wake.clear()

    def _claim_room(self, account: _Account) -> int:
        """Free in-flight places needed before the next claim for `account`."""
        return max(1, min(self.claim_batch, account.capacity // 2))

    async def _idle(self) -> bool:
        if any(a.in_flight for a in self.accounts.values()) or self._results or self._reports:
            return False
        if self._tasks and any(not t.done() for t in self._tasks if t.get_name() == "submit"):
            return False
        busy = await self.db(_outbox_busy, list(self.accounts))
        if busy == "reports":
            # Only reports are awaited: give up waiting once none came for report_wait s.
            return time.monotonic() - self._last_progress > self.report_wait
        return not busy

    async def _submit(self, account: _Account, item: outbox.WorkItem) -> None:
        asyncio.current_task().set_name("submit")
        tracing.bind(item.trace_id)  # this task's logs carry the enqueuing call's id
        pdu = Submit(
            dest_terminal_ids=(item.msisdn,),
            msg_content=item.content,
            service_id=SERVICE_ID,
            src_id=item.src_id,
            msg_src=item.sp_id,
            msg_fmt=item.msg_fmt,
            registered_delivery=1,
            pk_total=item.pk_total,
            pk_number=item.pk_number,
            tp_udhi=item.tp_udhi,
            fee_user_type=2,
        )
        try:
            sessions = account.connected() or account.sessions
            session = sessions[account.next_link % len(sessions)]
            account.next_link += 1
            resp = await session.submit(pdu)
        except ProtocolError as exc:
            outcome = outbox.SubmitOutcome(item.segment_id, item.message_id, None, 99, str(exc))
            self.stats.rejected += 1
            log.warning(
                "message %s to %s not submitted: %s",
                item.message_id,
                mask_mobile(item.msisdn),
                exc,
            )
        except (SessionError, OSError) as exc:
            log.warning("segment %s unanswered: %s", item.segment_id, exc)
            outcome = outbox.SubmitOutcome(item.segment_id, item.message_id, None, None)
            self.stats.unanswered += 1
        else:
            outcome = outbox.SubmitOutcome(
                item.segment_id, item.message_id, resp.msg_id, resp.result
            )
            if resp.result == 0:
                self.stats.submitted += 1
                account.submitted += 1
            else:
                self.stats.rejected += 1
                log.warning(
                    "message %s segment %s to %s refused: Result %s",
                    item.message_id,
                    item.pk_number,
                    mask_mobile(item.msisdn),
                    resp.result,
                )
        finally:
            account.in_flight -= 1
            if account.capacity - account.in_flight == self._claim_room(account):
                self._wake.set()
        self._results.append(outcome)

    # -- deliveries ------------------------------------------------------------------

    def _on_deliver(self, sp_id: str, event: Report | CmppMo):
        future = asyncio.get_running_loop().create_future()
        if isinstance(event, Report):
            self._reports.append((outbox.ReportIn(event.msg_id, event.stat), future, 0))
            account = self.accounts.get(sp_id)
            if account is not None:
                account.reports += 1
        else:
            reply = outbox.ReplyIn(sp_id, event.src, event.dest, event.text, event.msg_id)
            self._replies.append((reply, future))
        return future

    # -- the writer ------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            try:
                await self._flush()
            except Exception:
                # Nothing is lost: `_flush` put the batch back; try again shortly.
                log.exception("sender %s: writing a batch failed", self.sender_id)
                await asyncio.sleep(1.0)

    async def _flush(self) -> None:
        results, self._results = self._results, []
        reports, self._reports = self._reports, []
        replies, self._replies = self._replies, []
        if results or reports or replies:
            self._last_progress = time.monotonic()
        write = self._write_executor
        try:
            if results:
                await self.db(
                    outbox.submit_results_record, results, sender=self.sender_id, _executor=write
                )
                if any(r.result is None for r in results):
                    self._wake.set()
                results = []
            if reports:
                unmatched = await self.db(
                    outbox.reports_record, [r for r, _f, _n in reports], _executor=write
                )
                self._reports_settle(reports, {u.msg_id for u in unmatched})
                reports = []
            if replies:
                await self.db(outbox.replies_record, [r for r, _f in replies], _executor=write)
                self.stats.replies += len(replies)
                for _reply, future in replies:
                    if not future.done():
                        future.set_result(None)
                replies = []
        except Exception:
            # Each write is one transaction, rolled back whole on an error (a lost
            # connection, a deadlock victim): put back what was not written, so the next
            # flush writes it; the writes ignore rows already past the state they expect.
            self._results[:0] = results
            self._reports[:0] = reports
            self._replies[:0] = replies
            raise

    def _reports_settle(
        self, reports: list[tuple[outbox.ReportIn, asyncio.Future, int]], missing: set[int]
    ) -> None:
        """Acknowledge stored reports; keep unmatched ones for another try a while."""
        self.stats.reports += len(reports) - len(missing)
        for report, future, tries in reports:
            if report.msg_id in missing and tries < 40:
                # The SUBMIT_RESP may still be on its way to the writer: try again.
                self._reports.append((report, future, tries + 1))
                continue
            if report.msg_id in missing:
                self.stats.unmatched_reports += 1
                log.warning("status report for unknown Msg_Id %s dropped", report.msg_id)
            if not future.done():
                future.set_result(None)

    # -- housekeeping ------------------------------------------------------------------

    async def _housekeeping_loop(self) -> None:
        last_refresh = last_expiry = time.monotonic()
        while True:
            await asyncio.sleep(self.housekeeping_interval)
            try:
                await self.db(
                    outbox.leases_renew, sender=self.sender_id, _executor=self._lease_executor
                )
                await self._write_link_states()
                now = time.monotonic()
                if now - last_refresh >= self.refresh_interval:
                    last_refresh = now
                    await self._refresh_accounts()
                if now - last_expiry >= 60:
                    last_expiry = now
                    await self.db(outbox.segments_expire_overdue)
            except Exception:
                log.exception("sender housekeeping failed")

    async def _write_link_states(self, final: bool = False) -> None:
        rows = []
        now = time.monotonic()
        for account in self.accounts.values():
            last_time, last_count = account.rate_mark
            if last_time:
                account.current_rate = (account.submitted - last_count) / max(now - last_time, 1e-6)
            account.rate_mark = (now, account.submitted)
            for link_no, session in enumerate(account.sessions, 1):
                rows.append(
                    {
                        "sp_id": account.spec.sp_id,
                        "link_no": link_no,
                        "peer": f"{account.spec.host}:{account.spec.port}",
                        "state": "closed" if final else session.state,
                        "connected": False if final else session.connected,
                        "connected_since": _wall(session.connected_since),
                        "window": session.window,
                        "window_in_use": session.window_in_use,
                        "last_active_test_at": _wall(session.last_active_test_answered),
                        "licensed_rate": account.spec.rate,
                        "current_rate": 0 if final else round(account.current_rate, 1),
                        "submitted": session.counters.accepted,
                        "reports": session.counters.reports,
                        "flow_controlled": session.counters.flow_controlled,
                        "mo_messages": session.counters.mo_messages,
                    }
                )
        with contextlib.suppress(Exception):
            await self.db(link_states_write, self.sender_id, rows)


def _wall(epoch: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC) if epoch else None


def _outbox_busy(sp_ids: list[str]) -> bool | str:
    """True when messages of these accounts are due or being submitted, "reports" when
    only status reports are awaited, False when there is nothing to do."""
    from .models import Message, MessageState

    mine = Message.objects.filter(sp_id__in=sp_ids)
    if (
        mine.filter(state=MessageState.SUBMITTING).exists()
        or mine.filter(state=MessageState.QUEUED, due_at__lte=clock.now()).exists()
    ):
        return True
    return "reports" if mine.filter(state=MessageState.SUBMITTED).exists() else False


def link_states_write(sender: str, rows: list[dict]) -> None:
    """Replace this sender's LinkState rows."""
    from .models import LinkState

    now = clock.now()
    for row in rows:
        LinkState.objects.update_or_create(
            sender=sender,
            sp_id=row.pop("sp_id"),
            link_no=row.pop("link_no"),
            defaults={**row, "updated_at": now},
        )
