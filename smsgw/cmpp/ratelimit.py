"""Rate limits for the two ends of a link.

`Pacer` is the sender's side: `await pacer.acquire(n)` waits until n more messages
fit the licensed rate, so a well-behaved SP never provokes Result 8 (流量控制错,
§8.4.3.2). `TokenBucket` is the gateway's side: `try_take(n)` says yes or no at
once, which is how the simulator decides to answer Result 8. A group SUBMIT
counts as n messages on both sides (appendix 1: "对SP流量的统计对短信群发来说，
应该计算为n条短信").
"""

from __future__ import annotations

import asyncio
import time

__all__ = ["Pacer", "TokenBucket"]


class Pacer:
    """Generic cell rate algorithm: messages are spaced 1/rate apart, with a burst
    allowance of `burst` messages.

    Each caller books the next slot on a virtual schedule and sleeps until it, so
    concurrent callers are served first come first served without a lock, and a
    sleep that ends late does not lower the long-run rate (the schedule, not the
    wake-up, decides the next slot). The burst allowance absorbs late wake-ups;
    its default of 50 ms worth of messages stays far below a one-second bucket on
    the gateway.
    """

    def __init__(self, rate: float, burst: float | None = None, clock=time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1.0, rate * 0.05 if burst is None else burst)
        self._interval = 1.0 / rate
        self._tolerance = (self.burst - 1.0) * self._interval
        self._tat = float("-inf")
        self._clock = clock

    def reserve(self, count: int = 1) -> float:
        """Book `count` messages; return how many seconds to wait before sending."""
        now = self._clock()
        tat = max(self._tat, now - self._tolerance)
        self._tat = tat + count * self._interval
        return tat - now

    async def acquire(self, count: int = 1) -> None:
        """Wait until `count` messages may be sent."""
        delay = self.reserve(count)
        if delay > 0:
            await asyncio.sleep(delay)


class TokenBucket:
    """A bucket of `capacity` tokens refilled at `rate` per second; starts full.

    The default capacity is one second's worth, i.e. "rate messages per second".
    """

    def __init__(self, rate: float, capacity: float | None = None, clock=time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = max(1.0, rate if capacity is None else capacity)
        self._tokens = self.capacity
        self._clock = clock
        self._updated = clock()

    def try_take(self, count: int = 1) -> bool:
        """Take `count` tokens if available; False (and nothing taken) otherwise."""
        now = self._clock()
        tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if tokens >= count:
            self._tokens = tokens - count
            return True
        self._tokens = tokens
        return False
