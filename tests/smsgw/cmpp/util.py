"""Helpers for the CMPP tests: run a coroutine with a deadline, poll a condition."""

import asyncio
import time


def run(coro, timeout: float = 15.0):
    """Run an async test body on a fresh event loop, failing after `timeout` seconds."""

    async def bounded():
        async with asyncio.timeout(timeout):
            return await coro

    return asyncio.run(bounded())


async def until(condition, timeout: float = 5.0, interval: float = 0.01) -> None:
    """Wait until `condition()` is true; raise AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval)
