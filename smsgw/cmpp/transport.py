"""The byte-level half of a CMPP link, shared by the client session and the simulator.

`PduProtocol` is an asyncio.Protocol that frames the stream (§8.3 Total_Length),
decodes PDUs and hands them to `pdu_received`; on the way out it queues encoded
PDUs and writes them to the transport once per event-loop iteration, so a burst
of sixteen SUBMITs (or their responses) costs one send() system call instead of
sixteen. A malformed or oversized PDU is logged and the link is closed: after a
framing error the stream cannot be trusted again.
"""

from __future__ import annotations

import asyncio
import logging
import time

from .pdu import FrameReader, Pdu, ProtocolError, Version, decode, encode

__all__ = ["PduProtocol"]

log = logging.getLogger("smsgw.cmpp.transport")


class PduProtocol(asyncio.Protocol):
    """Framing, decoding and batched writing for one TCP connection.

    Subclasses implement `pdu_received(sequence_id, pdu)` and may override
    `link_lost(exc)`. `version` selects the layouts used in both directions and
    can change once the login has negotiated it.
    """

    def __init__(self, version: Version, name: str = "link") -> None:
        self.version = version
        self.name = name
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.last_received = 0.0
        self.protocol_error: ProtocolError | None = None
        self.bytes_in = 0
        self.bytes_out = 0
        self.pdus_in = 0
        self.pdus_out = 0
        self._reader = FrameReader()
        self._out: list[bytes] = []
        self._flush_scheduled = False
        self._paused = False
        self._resume_waiters: list[asyncio.Future] = []
        self._loop = asyncio.get_running_loop()
        self.closed: asyncio.Future = self._loop.create_future()

    # -- asyncio.Protocol ---------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Remember the transport and the peer address."""
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.last_received = time.monotonic()

    def data_received(self, data: bytes) -> None:
        """Frame, decode and dispatch; a malformed PDU closes the link."""
        self.bytes_in += len(data)
        self.last_received = time.monotonic()
        try:
            frames = self._reader.feed(data)
        except ProtocolError as exc:
            self._malformed(exc)
            return
        version = self.version
        for frame in frames:
            try:
                sequence_id, pdu = decode(frame, version)
            except ProtocolError as exc:
                self._malformed(exc)
                return
            self.pdus_in += 1
            self.pdu_received(sequence_id, pdu)
            if self.transport is None or self.transport.is_closing():
                return
            version = self.version

    def connection_lost(self, exc: Exception | None) -> None:
        """Release writers waiting for buffer space, resolve `closed`, tell the subclass."""
        self.transport = None
        self._out.clear()
        for waiter in self._resume_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._resume_waiters.clear()
        if not self.closed.done():
            self.closed.set_result(None)
        self.link_lost(exc)

    def pause_writing(self) -> None:
        """The transport buffer is above its high-water mark: hold new requests."""
        self._paused = True

    def resume_writing(self) -> None:
        """The transport buffer drained: let held requests go."""
        self._paused = False
        for waiter in self._resume_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._resume_waiters.clear()

    # -- for subclasses -----------------------------------------------------

    def pdu_received(self, sequence_id: int, pdu: Pdu) -> None:
        """Handle one decoded PDU from the peer."""
        raise NotImplementedError

    def link_lost(self, exc: Exception | None) -> None:
        """Called once when the connection is gone, for whatever reason."""

    # -- sending ------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True while the connection can carry PDUs."""
        return self.transport is not None and not self.transport.is_closing()

    def send(self, pdu: Pdu, sequence_id: int) -> None:
        """Encode and queue one PDU; raises ProtocolError when it cannot be encoded."""
        self.write(encode(pdu, sequence_id, self.version))

    def write(self, frame: bytes) -> None:
        """Queue one encoded PDU; it goes out with the others at the end of this
        event-loop iteration."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        self._out.append(frame)
        self.pdus_out += 1
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        """Write everything queued in one call."""
        self._flush_scheduled = False
        out = self._out
        if not out or self.transport is None:
            out.clear()
            return
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        self.bytes_out += len(data)
        self.transport.write(data)

    async def writable(self) -> None:
        """Wait while the transport's write buffer is above its high-water mark."""
        if self._paused and self.transport is not None:
            waiter = self._loop.create_future()
            self._resume_waiters.append(waiter)
            await waiter

    def close(self) -> None:
        """Flush what is queued and close the connection gracefully."""
        self.flush()
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection at once, discarding anything queued."""
        self._out.clear()
        if self.transport is not None:
            self.transport.abort()

    def _malformed(self, exc: ProtocolError) -> None:
        self.protocol_error = exc
        log.warning("%s %s: malformed PDU, closing the link: %s", self.name, self.peer, exc)
        self.abort()
