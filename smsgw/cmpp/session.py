"""An asyncio CMPP client session: the SP side of one logical link to an ISMG.

What it does, and the spec behind each piece:

- login with CMPP_CONNECT and check the gateway's AuthenticatorISMG (§8.4.1);
- a sliding window of unanswered requests, 16 by default (§7.1: "窗口大小参数W
  可配置，现阶段建议为16");
- a request unanswered after T seconds is sent again, at most N times in all
  (§7.1: "等待T秒后未收到响应，应立即重发，再连续发送N-1次后仍未得到响应则停发");
- CMPP_ACTIVE_TEST every C seconds of silence and dead-link detection: probe,
  wait T, probe again, give up after N unanswered probes (§7.1, §8.4.7); the
  gateway's own ACTIVE_TEST is answered at once;
- CMPP_DELIVER answered with DELIVER_RESP echoing the DELIVER's Msg_Id (§8.4.5.2),
  status reports decoded, concatenated MO messages reassembled;
- Result 8 (流量控制错, §8.4.3.2) retried after a growing back-off, and an optional
  client-side rate limit so that a licensed SP does not provoke it;
- automatic reconnect with back-off; requests unanswered when a link drops are
  sent again on the next link;
- graceful CMPP_TERMINATE (§8.4.2).

The API is built for a long-running sender: `await session.submit(Submit(...))`
returns that SUBMIT's final `SubmitResp` (after flow-control retries), many
submits may run concurrently and the window is enforced across them, and
`on_deliver` receives `Report` and `MoMessage` events. Link state and counters
are plain attributes so that an operations page can show them.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Self

from .auth import authenticator_ismg, authenticator_source, connect_timestamp
from .pdu import (
    ActiveTest,
    ActiveTestResp,
    CommandId,
    Connect,
    ConnectResp,
    Deliver,
    DeliverResp,
    Pdu,
    ProtocolError,
    StatusReport,
    Submit,
    SubmitResp,
    Terminate,
    TerminateResp,
    Version,
    encode,
)
from .ratelimit import Pacer
from .text import Reassembler
from .transport import PduProtocol

__all__ = [
    "DeliverCallback",
    "LoginRefusedError",
    "MoMessage",
    "Report",
    "Session",
    "SessionClosedError",
    "SessionConfig",
    "SessionCounters",
    "SessionError",
    "SubmitTimeoutError",
]

log = logging.getLogger("smsgw.cmpp.session")

FLOW_CONTROL = 8  # §8.4.3.2 Result 8: 流量控制错


class SessionError(Exception):
    """Base class of the errors a session raises to its callers."""


class LoginRefusedError(SessionError):
    """The gateway refused the login (CONNECT_RESP Status != 0, §8.4.1.2), or its
    AuthenticatorISMG did not match our secret. Final: the session will not retry."""

    def __init__(self, status: int, reason: str = "") -> None:
        self.status = status
        self.reason = reason or {
            1: "message structure error",
            2: "illegal source address (unknown SP_Id)",
            3: "authentication failed",
            4: "version too high",
        }.get(status, "refused")
        super().__init__(f"login refused: Status {status} ({self.reason})")


class SessionClosedError(SessionError):
    """The session was closed (or has failed) before the request was answered."""


class SubmitTimeoutError(SessionError):
    """No response after N attempts of T seconds each (§7.1)."""


@dataclass(frozen=True, slots=True)
class Report:
    """A status report (§8.4.5.1 report content) for a message we submitted.

    `msg_id` is the Msg_Id of our SUBMIT_RESP; `deliver_msg_id` is the DELIVER's own.
    """

    msg_id: int
    stat: str
    dest: str
    submit_time: str
    done_time: str
    smsc_sequence: int
    deliver_msg_id: int
    service_id: str = ""
    src_id: str = ""

    @property
    def delivered(self) -> bool:
        """True for the final state DELIVRD (§8.4.5.1 table 一)."""
        return self.stat == "DELIVRD"


@dataclass(frozen=True, slots=True)
class MoMessage:
    """A complete mobile-originated message (segments already reassembled).

    `dest` is the DELIVER's Dest_Id: the SP's service code plus any extension,
    which is how replies are routed to an enterprise.
    """

    src: str
    dest: str
    text: str
    service_id: str
    msg_fmt: int
    parts: int
    msg_id: int
    link_id: str = ""


DeliverCallback = Callable[[Report | MoMessage], Awaitable[None] | None]


@dataclass(frozen=True)
class SessionConfig:
    """Everything a session needs; the timers default to the values of §7.1.

    `rate` is the client-side limit in messages per second (None: unlimited);
    `flow_control_retries` None means Result 8 is retried until the caller gives up.
    """

    host: str
    port: int
    sp_id: str
    secret: str
    version: Version = Version.V30
    window: int = 16
    rate: float | None = None
    rate_burst: float | None = None
    active_test_interval: float = 180.0  # C
    response_timeout: float = 60.0  # T
    max_attempts: int = 3  # N
    connect_timeout: float = 10.0
    reconnect: bool = True
    reconnect_delay: float = 1.0
    reconnect_max_delay: float = 30.0
    flow_control_delay: float = 0.1
    flow_control_max_delay: float = 5.0
    flow_control_retries: int | None = None
    terminate_timeout: float = 1.0
    verify_ismg: bool = True
    mo_reassembly_timeout: float = 300.0
    name: str = ""


@dataclass(slots=True)
class SessionCounters:
    """Running totals since the session started; all plain ints."""

    submits_sent: int = 0
    accepted: int = 0
    rejected: int = 0
    flow_controlled: int = 0
    resent_after_link_loss: int = 0
    response_timeouts: int = 0
    delivers: int = 0
    reports: int = 0
    mo_messages: int = 0
    active_tests_sent: int = 0
    active_tests_answered: int = 0
    active_tests_received: int = 0
    logins: int = 0
    link_losses: int = 0
    dead_links: int = 0
    protocol_errors: int = 0


class _LinkLostError(Exception):
    """Internal: the link carrying a request went away before the response."""


class _ResponseTimeoutError(Exception):
    """Internal: no response within T seconds."""


@dataclass(slots=True)
class _Probe:
    """Dead-link detection state of one link (§7.1)."""

    outstanding: int = 0
    sent_at: float = 0.0
    sequences: set[int] = field(default_factory=set)


class _ClientLink(PduProtocol):
    """One TCP connection of a session."""

    def __init__(self, session: Session) -> None:
        super().__init__(session.config.version, name=session.name)
        self.session = session
        self.pending: dict[int, tuple[asyncio.Future, float, int]] = {}
        self.login: asyncio.Future = self._loop.create_future()
        self.logged_in = False
        self.probe = _Probe()
        self.ticker: asyncio.Task | None = None
        self.dead = False

    def pdu_received(self, sequence_id: int, pdu: Pdu) -> None:
        """Match responses to waiting requests; answer ACTIVE_TEST (§8.4.7) and
        TERMINATE (§8.4.2) at once; hand DELIVER (§8.4.5) to the session."""
        command = pdu.COMMAND_ID
        if command & 0x80000000:
            entry = self.pending.pop(sequence_id, None)
            if entry is not None:
                future, _, request_command = entry
                if command != request_command | 0x80000000:
                    log.warning(
                        "%s: response 0x%08x to request 0x%08x, closing the link",
                        self.name,
                        command,
                        request_command,
                    )
                    self.session.counters.protocol_errors += 1
                    self.pending[sequence_id] = entry
                    self.abort()
                    return
                if not future.done():
                    future.set_result(pdu)
                return
            if command == CommandId.CONNECT_RESP:
                if not self.login.done():
                    self.login.set_result(pdu)
                return
            if command == CommandId.ACTIVE_TEST_RESP and sequence_id in self.probe.sequences:
                self.session._probe_answered(self)
                return
            log.debug(
                "%s: response 0x%08x to unknown Sequence_Id %d", self.name, command, sequence_id
            )
            return
        if command == CommandId.DELIVER:
            self._loop.call_soon(self.session._deliver_received, self, sequence_id, pdu)
        elif command == CommandId.ACTIVE_TEST:
            self.session.counters.active_tests_received += 1
            self.send(ActiveTestResp(), sequence_id)
        elif command == CommandId.TERMINATE:
            log.info("%s: gateway sent TERMINATE, closing the link", self.name)
            self.send(TerminateResp(), sequence_id)
            self.close()
        else:
            log.warning("%s: unexpected request 0x%08x from the gateway", self.name, command)

    def link_lost(self, exc: Exception | None) -> None:
        """Fail every waiting request with _LinkLostError so the session resends it."""
        if self.protocol_error is not None:
            self.session.counters.protocol_errors += 1
        pending = list(self.pending.values())
        self.pending.clear()
        for future, _, _ in pending:
            if not future.done():
                future.set_exception(_LinkLostError())
        if not self.login.done():
            self.login.set_exception(ConnectionError("connection closed during login"))
        if self.ticker is not None:
            self.ticker.cancel()
        self.session._link_lost(self, exc)


class Session:
    """A CMPP client session that keeps one link logged in until `close()`.

    Usage::

        session = Session(config, on_deliver=handle)   # handle(Report | MoMessage)
        await session.start()                           # raises LoginRefusedError
        resp = await session.submit(Submit(...))        # -> SubmitResp
        await session.close()                           # TERMINATE, wait <= 1 s

    `on_deliver` may be a plain function or a coroutine function; the DELIVER_RESP
    is sent after it returns (Result 0) or raises (Result 9), so a sender that
    stores the event before returning never acknowledges a report it lost.
    `on_state` is called with the new `state` string on every change: "new",
    "connecting", "connected", "reconnecting", "closing", "closed" or "failed"
    (a final login refusal or a lost link without `reconnect`; see `failure`).

    For operations pages: `state`, `connected`, `connected_since`, `link_peer`,
    `window` / `window_in_use`, `last_active_test_sent` /
    `last_active_test_answered` / `last_received` (wall-clock seconds) and
    `counters` are plain attributes, cheap to read at any time.
    """

    def __init__(
        self,
        config: SessionConfig,
        *,
        on_deliver: DeliverCallback | None = None,
        on_state: Callable[[str], None] | None = None,
    ) -> None:
        if config.window < 1:
            raise ValueError("window must be at least 1")
        self.config = config
        self.name = config.name or f"cmpp {config.sp_id}@{config.host}:{config.port}"
        self.on_deliver = on_deliver
        self.on_state = on_state
        self.counters = SessionCounters()
        self.state = "new"
        self.window = config.window
        self.window_in_use = 0
        self.connected_since: float | None = None
        self.last_active_test_sent: float | None = None
        self.last_active_test_answered: float | None = None
        self.server_version: int | None = None
        self.failure: BaseException | None = None
        self._link: _ClientLink | None = None
        self._sequence = 0
        self._pacer = Pacer(config.rate, config.rate_burst) if config.rate else None
        self._reassembler = Reassembler(config.mo_reassembly_timeout)
        self._window_sem: asyncio.Semaphore | None = None
        self._link_ready: asyncio.Event | None = None
        self._supervisor: asyncio.Task | None = None
        self._first_login: asyncio.Future | None = None
        self._closing = False
        self._callbacks: set[asyncio.Task] = set()

    # -- public state -------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while a logged-in link is up."""
        link = self._link
        return link is not None and link.logged_in and link.is_open

    @property
    def version(self) -> Version:
        """The protocol version spoken on the link."""
        return self.config.version

    @property
    def last_received(self) -> float | None:
        """Wall-clock time (time.time()) of the last byte from the gateway."""
        link = self._link
        if link is None:
            return None
        return time.time() - (time.monotonic() - link.last_received)

    @property
    def link_peer(self) -> str:
        """host:port of the connected gateway, or "" when disconnected."""
        return self._link.peer if self._link is not None else ""

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            if self.on_state is not None:
                try:
                    self.on_state(state)
                except Exception:
                    log.exception("%s: on_state callback failed", self.name)

    # -- lifecycle ----------------------------------------------------------

    async def start(self) -> None:
        """Connect and log in; return once the first login succeeded.

        Raises LoginRefusedError when the gateway refuses (final). A connection that
        cannot be opened is retried with back-off when `reconnect` is on (bound the
        wait with a timeout), otherwise the OSError is raised.
        """
        if self._supervisor is not None:
            raise RuntimeError("session already started")
        loop = asyncio.get_running_loop()
        self._window_sem = asyncio.Semaphore(self.config.window)
        self._link_ready = asyncio.Event()
        self._first_login = loop.create_future()
        self._supervisor = loop.create_task(self._supervise(), name=f"{self.name} supervisor")
        try:
            await asyncio.shield(self._first_login)
        except BaseException:
            if not self._supervisor.done():
                self._supervisor.cancel()
            raise

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    async def close(self, timeout: float | None = None) -> None:
        """Send CMPP_TERMINATE, wait up to `timeout` (default terminate_timeout) for
        its response, close the link and stop reconnecting. Requests still waiting
        fail with SessionClosedError."""
        if self._closing:
            return
        self._closing = True
        self._set_state("closing")
        link = self._link
        if link is not None and link.logged_in and link.is_open:
            sequence = self._next_sequence()
            future = asyncio.get_running_loop().create_future()
            link.pending[sequence] = (future, time.monotonic(), CommandId.TERMINATE)
            link.send(Terminate(), sequence)
            wait = self.config.terminate_timeout if timeout is None else timeout
            try:
                await asyncio.wait_for(future, wait)
            except (TimeoutError, _LinkLostError, _ResponseTimeoutError):
                log.info("%s: no TERMINATE_RESP in time, closing anyway", self.name)
            link.close()
        elif link is not None:
            link.abort()
        await self._stop_supervisor()
        if self._link_ready is not None:
            self._link_ready.set()
        self._set_state("closed")

    def abort(self) -> None:
        """Drop the link at once without TERMINATE and stop the session."""
        self._closing = True
        if self._link is not None:
            self._link.abort()
        if self._supervisor is not None:
            self._supervisor.cancel()
        if self._link_ready is not None:
            self._link_ready.set()
        self._set_state("closed")

    async def _stop_supervisor(self) -> None:
        task = self._supervisor
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _supervise(self) -> None:
        """Keep one link logged in: connect, log in, wait for loss, back off, again.

        The back-off doubles on every failed attempt and every link that drops
        soon after its login (a flapping gateway is not hammered), and starts
        again from `reconnect_delay` once a link stayed up `reconnect_max_delay`.
        """
        config = self.config
        delay = config.reconnect_delay
        first = self._first_login
        while not self._closing:
            self._set_state(
                "connecting" if first is not None and not first.done() else "reconnecting"
            )
            try:
                link = await self._open_link()
            except LoginRefusedError as exc:
                self._fail(exc)
                return
            except (OSError, TimeoutError, ProtocolError) as exc:
                if not config.reconnect:
                    self._fail(exc)
                    return
                log.warning("%s: connect failed (%s), retrying in %.1f s", self.name, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, config.reconnect_max_delay)
                continue
            except Exception as exc:  # a bug must fail the session, not hang start()
                log.exception("%s: unexpected error while connecting", self.name)
                self._fail(exc)
                return
            self._link = link
            up_since = time.monotonic()
            self.connected_since = time.time()
            self._set_state("connected")
            self._link_ready.set()
            if not first.done():
                first.set_result(None)
            await link.closed
            if self._link is link:
                self._link = None
                self.connected_since = None
            self._link_ready.clear()
            if self._closing:
                return
            self.counters.link_losses += 1
            if not config.reconnect:
                self._fail(SessionClosedError("link lost"))
                return
            if time.monotonic() - up_since >= config.reconnect_max_delay:
                delay = config.reconnect_delay  # a link that held resets the back-off
            log.warning("%s: link lost, reconnecting in %.1f s", self.name, delay)
            self._set_state("reconnecting")
            await asyncio.sleep(delay)
            delay = min(delay * 2, config.reconnect_max_delay)

    def _fail(self, exc: BaseException) -> None:
        self.failure = exc
        self._closing = True
        self._set_state("failed")
        if self._first_login is not None and not self._first_login.done():
            self._first_login.set_exception(exc)
        if self._link_ready is not None:
            self._link_ready.set()
        log.error("%s: session failed: %s", self.name, exc)

    async def _open_link(self) -> _ClientLink:
        """TCP connect and CMPP_CONNECT (§8.4.1); returns a logged-in link."""
        config = self.config
        loop = asyncio.get_running_loop()
        _, link = await asyncio.wait_for(
            loop.create_connection(lambda: _ClientLink(self), config.host, config.port),
            config.connect_timeout,
        )
        timestamp = connect_timestamp()
        auth = authenticator_source(config.sp_id, config.secret, timestamp)
        link.send(
            Connect(config.sp_id, auth, int(config.version), timestamp), self._next_sequence()
        )
        try:
            resp: ConnectResp = await asyncio.wait_for(
                asyncio.shield(link.login), config.connect_timeout
            )
        except BaseException:
            link.abort()
            raise
        if resp.status != 0:
            link.close()
            raise LoginRefusedError(resp.status)
        expected = authenticator_ismg(0, auth, config.secret, config.version)
        if config.verify_ismg and resp.authenticator_ismg != expected:
            link.abort()
            raise LoginRefusedError(0, "AuthenticatorISMG does not match the shared secret")
        self.server_version = resp.version
        link.logged_in = True
        self.counters.logins += 1
        link.ticker = loop.create_task(self._tick(link), name=f"{self.name} ticker")
        log.info(
            "%s: logged in (CMPP %s, server version 0x%02x)",
            self.name,
            config.version.label,
            resp.version,
        )
        return link

    def _link_lost(self, link: _ClientLink, exc: Exception | None) -> None:
        if self._link is link and self._link_ready is not None and not self._closing:
            self._link_ready.clear()
        if link.logged_in and not self._closing:
            log.warning("%s: connection lost%s", self.name, f": {exc}" if exc else "")

    # -- timers: response timeouts and keep-alive (§7.1) ----------------------

    async def _tick(self, link: _ClientLink) -> None:
        config = self.config
        c, t, n = config.active_test_interval, config.response_timeout, config.max_attempts
        period = min(max(min(c, t) / 4, 0.005), 1.0)
        probe = link.probe
        pending = link.pending
        while link.is_open:
            await asyncio.sleep(period)
            now = time.monotonic()
            if pending:
                expired = []
                for sequence, (future, sent, _) in pending.items():
                    if now - sent < t:
                        break
                    expired.append((sequence, future))
                for sequence, future in expired:
                    del pending[sequence]
                    if not future.done():
                        future.set_exception(_ResponseTimeoutError())
            if probe.outstanding == 0:
                if now - link.last_received >= c:
                    self._send_probe(link, now)
            elif now - probe.sent_at >= t:
                if probe.outstanding >= n:
                    log.warning(
                        "%s: %d ACTIVE_TESTs unanswered, the link is dead; closing it", self.name, n
                    )
                    self.counters.dead_links += 1
                    link.dead = True
                    link.abort()
                    return
                self._send_probe(link, now)

    def _send_probe(self, link: _ClientLink, now: float) -> None:
        sequence = self._next_sequence()
        link.probe.outstanding += 1
        link.probe.sent_at = now
        link.probe.sequences.add(sequence)
        self.counters.active_tests_sent += 1
        self.last_active_test_sent = time.time()
        link.send(ActiveTest(), sequence)

    def _probe_answered(self, link: _ClientLink) -> None:
        link.probe.outstanding = 0
        link.probe.sequences.clear()
        self.counters.active_tests_answered += 1
        self.last_active_test_answered = time.time()

    # -- requests -------------------------------------------------------------

    def _next_sequence(self) -> int:
        """Sequence_Id (§8.3): +1 per request, wrapping, never 0."""
        self._sequence = self._sequence % 0xFFFFFFFF + 1
        return self._sequence

    async def _wait_link(self) -> _ClientLink:
        while True:
            link = self._link
            if link is not None and link.logged_in and link.is_open:
                return link
            if self._closing or self._link_ready is None:
                raise SessionClosedError(str(self.failure) if self.failure else "session closed")
            await self._link_ready.wait()
            await asyncio.sleep(0)

    async def _exchange(self, pdu: Pdu) -> Pdu:
        """Send a request and return its response: resent after T seconds at most
        N times in all, and resent on the next link when the link drops."""
        attempts = 0
        counters = self.counters
        loop = asyncio.get_running_loop()
        command = pdu.COMMAND_ID
        is_submit = command == CommandId.SUBMIT
        while True:
            link = self._link
            if link is None or not link.logged_in or not link.is_open:
                link = await self._wait_link()
            if link._paused:
                await link.writable()
                continue
            sequence = self._next_sequence()
            frame = encode(pdu, sequence, link.version)
            future = loop.create_future()
            link.pending[sequence] = (future, time.monotonic(), command)
            link.write(frame)
            if is_submit:
                counters.submits_sent += 1
            try:
                return await future
            except _LinkLostError:
                if self._closing:
                    raise SessionClosedError(
                        "session closed while waiting for a response"
                    ) from None
                counters.resent_after_link_loss += 1
            except _ResponseTimeoutError:
                counters.response_timeouts += 1
                attempts += 1
                if attempts >= self.config.max_attempts:
                    raise SubmitTimeoutError(
                        f"no response after {attempts} attempts of {self.config.response_timeout} s"
                    ) from None
                log.warning(
                    "%s: no response in %.1f s, sending again",
                    self.name,
                    self.config.response_timeout,
                )

    async def request(self, pdu: Pdu) -> Pdu:
        """Send any request (QUERY, CANCEL, ...) inside the window; return its response."""
        if self._window_sem is None:
            raise SessionClosedError("session not started")
        async with self._window_sem:
            self.window_in_use += 1
            try:
                return await self._exchange(pdu)
            finally:
                self.window_in_use -= 1

    async def submit(self, submit: Submit) -> SubmitResp:
        """Submit one message; return its final SUBMIT_RESP.

        Waits for the rate limit and a free window slot, retries Result 8 after a
        back-off that starts at `flow_control_delay` (>= 100 ms by default) and
        doubles, and resends on a new link when the link drops. Other results are
        returned as they are. Raises SessionClosedError, SubmitTimeoutError or ProtocolError
        (a field that does not fit its layout).
        """
        window = self._window_sem
        if window is None:
            raise SessionClosedError("session not started")
        config = self.config
        counters = self.counters
        count = len(submit.dest_terminal_ids)
        delay = config.flow_control_delay
        retries = 0
        while True:
            if self._pacer is not None:
                await self._pacer.acquire(count)
            async with window:
                self.window_in_use += 1
                try:
                    resp = await self._exchange(submit)
                finally:
                    self.window_in_use -= 1
            result = resp.result
            if result == 0:
                counters.accepted += 1
                return resp
            if result != FLOW_CONTROL:
                counters.rejected += 1
                return resp
            counters.flow_controlled += 1
            if config.flow_control_retries is not None and retries >= config.flow_control_retries:
                return resp
            retries += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, config.flow_control_max_delay)

    async def active_test(self) -> float:
        """Send one ACTIVE_TEST now and return the round trip in seconds."""
        link = await self._wait_link()
        sequence = self._next_sequence()
        future = asyncio.get_running_loop().create_future()
        started = time.monotonic()
        link.pending[sequence] = (future, started, CommandId.ACTIVE_TEST)
        self.counters.active_tests_sent += 1
        self.last_active_test_sent = time.time()
        link.send(ActiveTest(), sequence)
        try:
            await future
        except (_LinkLostError, _ResponseTimeoutError):
            raise SessionClosedError("no ACTIVE_TEST_RESP") from None
        self.counters.active_tests_answered += 1
        self.last_active_test_answered = time.time()
        return time.monotonic() - started

    # -- deliveries (§8.4.5) ----------------------------------------------------

    def _deliver_received(self, link: _ClientLink, sequence: int, pdu: Deliver) -> None:
        counters = self.counters
        counters.delivers += 1
        event: Report | MoMessage | None = None
        result = 0
        if pdu.registered_delivery:
            try:
                report = StatusReport.decode(pdu.msg_content, link.version)
            except ProtocolError as exc:
                log.warning("%s: undecodable status report: %s", self.name, exc)
                result = 1  # §8.4.5.2 Result 1: 消息结构错
            else:
                counters.reports += 1
                event = Report(
                    msg_id=report.msg_id,
                    stat=report.stat,
                    dest=report.dest_terminal_id,
                    submit_time=report.submit_time,
                    done_time=report.done_time,
                    smsc_sequence=report.smsc_sequence,
                    deliver_msg_id=pdu.msg_id,
                    service_id=pdu.service_id,
                    src_id=pdu.dest_id,
                )
        else:
            whole = self._reassembler.feed(
                (pdu.src_terminal_id, pdu.dest_id), pdu.tp_udhi, pdu.msg_fmt, pdu.msg_content
            )
            if whole is not None:
                counters.mo_messages += 1
                event = MoMessage(
                    src=pdu.src_terminal_id,
                    dest=pdu.dest_id,
                    text=whole.text,
                    service_id=pdu.service_id,
                    msg_fmt=whole.msg_fmt,
                    parts=whole.parts,
                    msg_id=pdu.msg_id,
                    link_id=pdu.link_id,
                )
        if event is not None and self.on_deliver is not None:
            try:
                outcome = self.on_deliver(event)
            except Exception:
                log.exception("%s: on_deliver failed", self.name)
                result = 9
            else:
                if inspect.isawaitable(outcome):
                    task = asyncio.get_running_loop().create_task(
                        self._acknowledge_after(outcome, link, sequence, pdu.msg_id)
                    )
                    self._callbacks.add(task)
                    task.add_done_callback(self._callbacks.discard)
                    return
        link.send(DeliverResp(pdu.msg_id, result), sequence)

    async def _acknowledge_after(
        self, outcome: Awaitable[None], link: _ClientLink, sequence: int, msg_id: int
    ) -> None:
        result = 0
        try:
            await outcome
        except Exception:
            log.exception("%s: on_deliver failed", self.name)
            result = 9
        link.send(DeliverResp(msg_id, result), sequence)
