"""An ISMG simulator: the server side of CMPP 2.0 / 3.0 for tests, benchmarks and NOC.

It behaves like an Internet Short Message Gateway towards SPs (§8.4):

- logs SPs in from a table of accounts (several links per account allowed) and
  refuses with the Status codes of §8.4.1.2: 2 unknown SP_Id, 3 bad
  authenticator, 4 version too high; the link is closed after a refusal;
- serves 2.0 and 3.0 clients alike (a 3.0 simulator also accepts 2.0 logins);
- answers SUBMIT with Msg_Ids laid out as in §8.4.3.2, a group SUBMIT to n
  recipients getting Msg_Id .. Msg_Id+n-1 (appendix 1), and Result 8 when the
  account exceeds its rate (counted per account over all its links, n per group
  SUBMIT, refused SUBMITs not counted);
- sends a status report per recipient after `dlr_delay` seconds, failing a
  configurable share of them (UNDELIV), repeatable with a seed; a report whose
  DELIVER is unanswered when its link drops is sent again on the next link;
- pushes MO messages on demand (segmented with a UDH when long);
- answers ACTIVE_TEST, TERMINATE, QUERY and CANCEL, and can probe clients with
  its own ACTIVE_TEST;
- injects faults: refuse logins, delay responses, drop a link after N SUBMITs,
  go mute (a hung gateway), ignore ACTIVE_TEST, force a SUBMIT Result.

Tests drive it in-process (`await Simulator(config).start()` on port 0); the
`simulate` command runs it as a process.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Self

from .auth import authenticator_ismg, verify_source
from .msgid import MsgIdGenerator, now_cst
from .pdu import (
    ActiveTest,
    ActiveTestResp,
    Cancel,
    CancelResp,
    CommandId,
    Connect,
    ConnectResp,
    Deliver,
    Pdu,
    Query,
    QueryResp,
    StatusReport,
    Submit,
    SubmitResp,
    Terminate,
    TerminateResp,
    Version,
    encode,
)
from .ratelimit import TokenBucket
from .text import split_text
from .transport import PduProtocol

__all__ = [
    "Account",
    "Faults",
    "ReceivedSubmit",
    "SimLink",
    "Simulator",
    "SimulatorConfig",
    "SimulatorCounters",
    "accounts_from",
]

log = logging.getLogger("smsgw.cmpp.simulator")


@dataclass(frozen=True)
class Account:
    """An SP account: SP_Id, shared secret and its licensed rate (None: unlimited;
    falls back to the simulator-wide rate)."""

    sp_id: str
    secret: str
    rate: float | None = None

    @classmethod
    def parse(cls, text: str) -> Account:
        """ "SP_ID:SECRET", split at the first colon (the secret may contain colons)."""
        sp_id, sep, secret = text.partition(":")
        if not sep or not sp_id:
            raise ValueError(f"account {text!r} is not SP_ID:SECRET")
        return cls(sp_id, secret)


@dataclass
class Faults:
    """Fault injection knobs; change them at any time, they apply to the next PDU.

    - `refuse_login`: answer every CONNECT with this Status (and close the link);
    - `response_delay`: seconds to hold back every SUBMIT_RESP;
    - `drop_after_submits`: abort the link that carries the N-th SUBMIT from now,
      without answering it; fires once and resets itself to None;
    - `mute`: read everything, answer nothing (a hung gateway);
    - `ignore_active_test`: answer everything except ACTIVE_TEST;
    - `submit_result`: answer every SUBMIT with this Result instead of judging it.
    """

    refuse_login: int | None = None
    response_delay: float = 0.0
    drop_after_submits: int | None = None
    mute: bool = False
    ignore_active_test: bool = False
    submit_result: int | None = None


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulated ISMG behaves; see the module docstring."""

    accounts: tuple[Account, ...] = ()
    host: str = "127.0.0.1"
    port: int = 0
    version: Version = Version.V30
    rate: float | None = None
    dlr_delay: float = 0.2
    dlr_fail_ratio: float = 0.0
    seed: int | None = None
    ismg_id: int = 1001
    record_submits: bool = True
    terminate_timeout: float = 1.0


@dataclass(slots=True)
class SimulatorCounters:
    """Running totals, all plain ints."""

    connections: int = 0
    logins: int = 0
    logins_refused: int = 0
    submits: int = 0
    accepted: int = 0
    flow_controlled: int = 0
    rejected: int = 0
    reports_sent: int = 0
    mo_sent: int = 0
    deliver_resps: int = 0
    active_tests_received: int = 0
    active_tests_sent: int = 0
    active_test_resps: int = 0
    terminates_received: int = 0
    protocol_errors: int = 0
    links_dropped: int = 0


@dataclass(frozen=True, slots=True)
class ReceivedSubmit:
    """A SUBMIT the simulator accepted, as recorded for tests."""

    sp_id: str
    msg_id: int
    submit: Submit
    version: Version
    received_at: float


@dataclass(slots=True)
class _PendingReport:
    """A status report waiting for its delay."""

    sp_id: str
    link: SimLink | None
    msg_id: int
    dest: str
    src_id: str
    service_id: str
    stat: str
    submit_time: str
    handle: asyncio.TimerHandle | None = None


class SimLink(PduProtocol):
    """One SP connection to the simulator."""

    def __init__(self, sim: Simulator) -> None:
        super().__init__(sim.config.version, name="ismg-sim")
        self.sim = sim
        self.account: Account | None = None
        self.submits = 0
        self.unanswered = 0
        self.max_unanswered = 0
        self.connected_at = time.time()
        self._sequence = 0
        self._waiters: dict[int, asyncio.Future] = {}

    @property
    def logged_in(self) -> bool:
        """True once the SP has logged in on this link."""
        return self.account is not None

    @property
    def sp_id(self) -> str:
        """The SP_Id of the logged-in account ("" before login)."""
        return self.account.sp_id if self.account else ""

    def next_sequence(self) -> int:
        """Sequence_Id for requests the simulator originates on this link."""
        self._sequence = self._sequence % 0xFFFFFFFF + 1
        return self._sequence

    def request(self, pdu: Pdu) -> asyncio.Future:
        """Send a request (DELIVER, ACTIVE_TEST, TERMINATE); the future gets the response."""
        sequence = self.next_sequence()
        future = self._loop.create_future()
        self._waiters[sequence] = future
        self.send(pdu, sequence)
        return future

    def answer_late(self, frame: bytes) -> None:
        """Write a held-back response (fault `response_delay`)."""
        self.unanswered -= 1
        self.write(frame)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Register the new connection with the simulator."""
        super().connection_made(transport)
        self.sim._links.add(self)
        self.sim.counters.connections += 1

    def link_lost(self, exc: Exception | None) -> None:
        """Forget the link and fail requests still waiting on it."""
        self.sim._links.discard(self)
        if self.protocol_error is not None:
            self.sim.counters.protocol_errors += 1
        for future in self._waiters.values():
            if not future.done():
                future.set_exception(ConnectionError("link closed"))
        self._waiters.clear()

    def pdu_received(self, sequence_id: int, pdu: Pdu) -> None:
        """Login first (§8.4.1), then dispatch requests and match responses."""
        sim = self.sim
        command = pdu.COMMAND_ID
        if self.account is None:
            if command == CommandId.CONNECT:
                sim._login(self, sequence_id, pdu)
            else:
                log.warning("%s: 0x%08x before CONNECT, closing", self.peer, command)
                self.abort()
            return
        if command & 0x80000000:
            if command == CommandId.DELIVER_RESP:
                sim.counters.deliver_resps += 1
                sim.deliver_results[pdu.msg_id] = pdu.result
            elif command == CommandId.ACTIVE_TEST_RESP:
                sim.counters.active_test_resps += 1
            future = self._waiters.pop(sequence_id, None)
            if future is not None and not future.done():
                future.set_result(pdu)
            return
        faults = sim.faults
        if command == CommandId.SUBMIT:
            sim._submit(self, sequence_id, pdu)
        elif command == CommandId.ACTIVE_TEST:
            sim.counters.active_tests_received += 1
            if not (faults.mute or faults.ignore_active_test):
                self.send(ActiveTestResp(), sequence_id)
        elif faults.mute:
            return
        elif command == CommandId.TERMINATE:
            sim.counters.terminates_received += 1
            self.send(TerminateResp(), sequence_id)
            self.close()
        elif command == CommandId.QUERY:
            self.send(sim._query(pdu), sequence_id)
        elif command == CommandId.CANCEL:
            self.send(sim._cancel(pdu), sequence_id)
        elif command == CommandId.CONNECT:
            log.warning("%s: second CONNECT on a logged-in link, closing", self.peer)
            self.abort()
        else:
            log.warning("%s: unexpected 0x%08x from an SP, ignored", self.peer, command)


class Simulator:
    """The simulated ISMG. Use `async with Simulator(config) as sim:` or start/stop.

    Public attributes: `faults` (mutable), `counters`, `submits` (accepted SUBMITs
    when `record_submits`), `deliver_results` (Msg_Id of each DELIVER -> Result of
    its DELIVER_RESP), `links` (connected links), `host`/`port` once started.
    """

    def __init__(self, config: SimulatorConfig, faults: Faults | None = None) -> None:
        self.config = config
        self.faults = faults or Faults()
        self.counters = SimulatorCounters()
        self.accounts = {a.sp_id: a for a in config.accounts}
        self.submits: list[ReceivedSubmit] = []
        self.deliver_results: dict[int, int] = {}
        self.host = config.host
        self.port = config.port
        self._links: set[SimLink] = set()
        self._buckets: dict[str, TokenBucket] = {}
        for account in config.accounts:
            rate = account.rate if account.rate is not None else config.rate
            if rate is not None:
                self._buckets[account.sp_id] = TokenBucket(rate)
        self._msg_ids = MsgIdGenerator(config.ismg_id)
        self._random = random.Random(config.seed)  # noqa: S311 - simulation, seeded on purpose
        self._reports: dict[int, _PendingReport] = {}
        self._queued: dict[str, list[Deliver]] = {}
        self._server: asyncio.AbstractServer | None = None
        self._login_event: asyncio.Event | None = None
        self._drop_countdown: int | None = None
        self._smsc_sequence = 0

    # -- lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        """Listen; `port` is the real port afterwards (useful with port 0)."""
        loop = asyncio.get_running_loop()
        self._login_event = asyncio.Event()
        self._server = await loop.create_server(
            lambda: SimLink(self), self.config.host, self.config.port
        )
        sockname = self._server.sockets[0].getsockname()
        self.host, self.port = sockname[0], sockname[1]
        log.info(
            "ISMG simulator listening on %s:%d (CMPP %s)",
            self.host,
            self.port,
            self.config.version.label,
        )

    @property
    def address(self) -> str:
        """HOST:PORT the simulator listens on."""
        return f"{self.host}:{self.port}"

    async def stop(self, terminate: bool = True) -> None:
        """Stop listening and end every link (TERMINATE first unless `terminate` is
        False), waiting at most `terminate_timeout` for the responses."""
        if self._server is not None:
            self._server.close()
        for pending in self._reports.values():
            if pending.handle is not None:
                pending.handle.cancel()
        self._reports.clear()
        links = list(self._links)
        if terminate and links:
            waits = [link.request(Terminate()) for link in links if link.logged_in and link.is_open]
            if waits:
                await asyncio.wait(waits, timeout=self.config.terminate_timeout)
                for future in waits:
                    if future.done() and not future.cancelled():
                        future.exception()
        for link in links:
            link.close()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.stop()

    # -- inspection -------------------------------------------------------------

    @property
    def links(self) -> list[SimLink]:
        """Connected links, logged in or not."""
        return list(self._links)

    def logged_in_links(self, sp_id: str | None = None) -> list[SimLink]:
        """Links logged in (for one account, or any)."""
        return [
            link
            for link in self._links
            if link.logged_in and link.is_open and (sp_id is None or link.sp_id == sp_id)
        ]

    async def wait_logged_in(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until at least `count` links are logged in."""
        async with asyncio.timeout(timeout):
            while len(self.logged_in_links()) < count:
                self._login_event.clear()
                await self._login_event.wait()

    # -- fault actions ------------------------------------------------------------

    def drop_links(self, sp_id: str | None = None) -> int:
        """Abort links at once (no TERMINATE); returns how many."""
        links = [link for link in self._links if sp_id is None or link.sp_id == sp_id]
        for link in links:
            link.abort()
        self.counters.links_dropped += len(links)
        return len(links)

    async def active_test(self, sp_id: str | None = None, timeout: float = 5.0) -> int:
        """Send ACTIVE_TEST on every logged-in link; return how many answered in time."""
        futures = [link.request(ActiveTest()) for link in self.logged_in_links(sp_id)]
        self.counters.active_tests_sent += len(futures)
        if not futures:
            return 0
        done, _ = await asyncio.wait(futures, timeout=timeout)
        return sum(1 for f in done if not f.cancelled() and f.exception() is None)

    async def terminate_links(self, sp_id: str | None = None, timeout: float = 1.0) -> None:
        """Send TERMINATE on logged-in links, wait for the responses, close them."""
        links = self.logged_in_links(sp_id)
        futures = [link.request(Terminate()) for link in links]
        if futures:
            await asyncio.wait(futures, timeout=timeout)
        for link in links:
            link.close()

    # -- MO on demand ---------------------------------------------------------------

    def _mo_delivers(
        self, src: str, dest: str, text: str, service_id: str, udh16: bool, udhi_flag: int
    ) -> list[Deliver]:
        ref = self._random.randrange(1 << 16 if udh16 else 1 << 8)
        delivers = []
        for seg in split_text(text, ref):
            content = seg.content
            if seg.tp_udhi and udh16:
                content = (
                    bytes((6, 8, 4, ref >> 8, ref & 0xFF, seg.pk_total, seg.pk_number))
                    + content[6:]
                )
            delivers.append(
                Deliver(
                    msg_id=self._msg_ids.next(),
                    dest_id=dest,
                    src_terminal_id=src,
                    msg_content=content,
                    service_id=service_id,
                    msg_fmt=seg.msg_fmt,
                    registered_delivery=0,
                    tp_udhi=udhi_flag if seg.tp_udhi else 0,
                )
            )
        return delivers

    async def send_mo(
        self,
        src: str,
        dest: str,
        text: str,
        *,
        sp_id: str | None = None,
        service_id: str = "",
        udh16: bool = False,
        udhi_flag: int = 1,
        timeout: float = 5.0,
    ) -> list[int]:
        """Deliver an MO message from mobile `src` to SP number `dest` on a logged-in
        link of `sp_id` (or of any account); long texts go as UDH segments (8-bit
        reference, or 16-bit with `udh16`; TP_udhi = `udhi_flag`, 1 or 0x40).

        Waits for the DELIVER_RESPs and returns their Results. Raises LookupError
        when no link is logged in.
        """
        links = self.logged_in_links(sp_id)
        if not links:
            raise LookupError("no SP link is logged in")
        link = links[0]
        futures = [
            link.request(d)
            for d in self._mo_delivers(src, dest, text, service_id, udh16, udhi_flag)
        ]
        self.counters.mo_sent += len(futures)
        async with asyncio.timeout(timeout):
            responses = await asyncio.gather(*futures)
        return [r.result for r in responses]

    def queue_mo(self, src: str, dest: str, text: str, *, sp_id: str | None = None) -> None:
        """Deliver an MO now if a link is logged in, else on the next login (of
        `sp_id`, or of any account when None)."""
        delivers = self._mo_delivers(src, dest, text, "", False, 1)
        links = self.logged_in_links(sp_id)
        if links:
            for d in delivers:
                links[0].request(d)
            self.counters.mo_sent += len(delivers)
        else:
            self._queued.setdefault(sp_id or "", []).extend(delivers)

    # -- protocol handling ------------------------------------------------------------

    def _login(self, link: SimLink, sequence: int, pdu: Connect) -> None:
        """§8.4.1: check the account, the authenticator and the version."""
        server_version = self.config.version
        account = self.accounts.get(pdu.source_addr)
        client_version = pdu.version
        status = 0
        if self.faults.refuse_login is not None:
            status = self.faults.refuse_login
        elif account is None:
            status = 2
        elif not verify_source(
            account.sp_id, account.secret, pdu.timestamp, pdu.authenticator_source
        ):
            status = 3
        elif client_version > server_version:
            status = 4
        elif client_version not in (Version.V20, Version.V30):
            status = 5
        reply_version = (
            Version(client_version) if client_version in (0x20, 0x30) else server_version
        )
        if client_version > server_version:
            reply_version = server_version
        link.version = reply_version
        if status:
            self.counters.logins_refused += 1
            log.info("%s: refused login of %r with Status %d", link.peer, pdu.source_addr, status)
            link.send(ConnectResp(status, bytes(16), int(server_version)), sequence)
            link.close()
            return
        auth = authenticator_ismg(0, pdu.authenticator_source, account.secret, reply_version)
        link.send(ConnectResp(0, auth, int(server_version)), sequence)
        link.account = account
        self.counters.logins += 1
        log.info("%s: %s logged in (CMPP %s)", link.peer, account.sp_id, reply_version.label)
        for key in (account.sp_id, ""):
            queued = self._queued.pop(key, [])
            for d in queued:
                link.request(d)
            self.counters.mo_sent += len(queued)
        for pending in self._reports.values():
            if pending.sp_id == account.sp_id and (
                pending.link is None or not pending.link.is_open
            ):
                pending.link = link
        self.flush_reports()
        if self._login_event is not None:
            self._login_event.set()

    def _submit(self, link: SimLink, sequence: int, pdu: Submit) -> None:
        """§8.4.3: judge a SUBMIT, answer it, schedule its reports."""
        counters = self.counters
        faults = self.faults
        counters.submits += 1
        link.submits += 1
        if faults.drop_after_submits is not None:
            if self._drop_countdown is None:
                self._drop_countdown = faults.drop_after_submits
            self._drop_countdown -= 1
            if self._drop_countdown <= 0:
                faults.drop_after_submits = None
                self._drop_countdown = None
                counters.links_dropped += 1
                log.info("%s: fault injection: dropping the link", link.peer)
                link.abort()
                return
        if faults.mute:
            return
        dests = pdu.dest_terminal_ids
        count = len(dests)
        if faults.submit_result is not None:
            result = faults.submit_result
        else:
            bucket = self._buckets.get(link.sp_id)
            result = 0 if bucket is None or bucket.try_take(count) else 8
        if result == 0:
            msg_id = self._msg_ids.reserve(count)
            counters.accepted += count
        else:
            msg_id = 0
            if result == 8:
                counters.flow_controlled += 1
            else:
                counters.rejected += 1
        frame = encode(SubmitResp(msg_id, result), sequence, link.version)
        if faults.response_delay > 0:
            link.unanswered += 1
            link.max_unanswered = max(link.max_unanswered, link.unanswered)
            link._loop.call_later(faults.response_delay, link.answer_late, frame)
        else:
            link.write(frame)
        if result != 0:
            return
        if self.config.record_submits:
            self.submits.append(ReceivedSubmit(link.sp_id, msg_id, pdu, link.version, time.time()))
        if pdu.registered_delivery:
            self._schedule_reports(link, msg_id, pdu)

    def _schedule_reports(self, link: SimLink, msg_id: int, pdu: Submit) -> None:
        t = now_cst()
        submit_time = f"{t:%y%m%d%H%M}"
        loop = link._loop
        ratio = self.config.dlr_fail_ratio
        for offset, dest in enumerate(pdu.dest_terminal_ids):
            stat = "UNDELIV" if ratio > 0 and self._random.random() < ratio else "DELIVRD"
            pending = _PendingReport(
                link.sp_id,
                link,
                msg_id + offset,
                dest,
                pdu.src_id,
                pdu.service_id,
                stat,
                submit_time,
            )
            pending.handle = loop.call_later(self.config.dlr_delay, self._send_report, pending)
            self._reports[pending.msg_id] = pending

    def _send_report(self, pending: _PendingReport) -> None:
        """Send a status report DELIVER (§8.4.5.1) for one recipient."""
        link = pending.link
        if link is None or not link.is_open:
            links = self.logged_in_links(pending.sp_id)
            if not links:
                pending.link = None
                pending.handle = None
                return  # re-attached to the account's next link at login, sent then
            link = pending.link = links[0]
        self._reports.pop(pending.msg_id, None)
        self._smsc_sequence = (self._smsc_sequence + 1) & 0xFFFFFFFF
        done_time = f"{now_cst():%y%m%d%H%M}"
        report = StatusReport(
            pending.msg_id,
            pending.stat,
            pending.submit_time,
            done_time,
            pending.dest,
            self._smsc_sequence,
        )
        deliver = Deliver(
            msg_id=self._msg_ids.next(),
            dest_id=pending.src_id,
            src_terminal_id=pending.dest,
            msg_content=report.encode(link.version),
            service_id=pending.service_id,
            registered_delivery=1,
        )
        link.request(deliver).add_done_callback(
            lambda future, pending=pending: self._report_answered(pending, future)
        )
        self.counters.reports_sent += 1

    def _report_answered(self, pending: _PendingReport, future: asyncio.Future) -> None:
        """A report whose DELIVER went unanswered because its link died is kept and
        delivered again on the account's next link, as a real ISMG does."""
        if not future.cancelled() and future.exception() is None:
            return
        pending.link = None
        pending.handle = None
        self._reports[pending.msg_id] = pending
        if self.logged_in_links(pending.sp_id):
            asyncio.get_running_loop().call_soon(self.flush_reports)

    def flush_reports(self) -> None:
        """Send reports that were held back for want of a logged-in link."""
        for pending in list(self._reports.values()):
            if pending.handle is None:
                self._send_report(pending)

    def _query(self, pdu: Query) -> QueryResp:
        """§8.4.4: answer from the running counters (the simulator keeps no days)."""
        c = self.counters
        return QueryResp(
            pdu.time,
            pdu.query_type,
            pdu.query_code,
            mt_tlmsg=c.submits,
            mt_tlusr=c.accepted,
            mt_scs=c.reports_sent,
            mt_wt=len(self._reports),
            mt_fl=c.rejected + c.flow_controlled,
            mo_scs=c.deliver_resps,
            mo_wt=0,
            mo_fl=0,
        )

    def _cancel(self, pdu: Cancel) -> CancelResp:
        """§8.4.6: a message can be cancelled while its report is still pending."""
        pending = self._reports.pop(pdu.msg_id, None)
        if pending is None:
            return CancelResp(1)
        if pending.handle is not None:
            pending.handle.cancel()
        return CancelResp(0)


def accounts_from(texts: Iterable[str]) -> tuple[Account, ...]:
    """Parse repeated SP_ID:SECRET options."""
    return tuple(Account.parse(t) for t in texts)
