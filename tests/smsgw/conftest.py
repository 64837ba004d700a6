"""Fixtures for the pipeline tests: an in-process ISMG simulator and a sender run."""

import asyncio

import pytest

from core import crypto
from fulfillment.models import CmppAccount
from smsgw.cmpp.simulator import Account, Simulator, SimulatorConfig
from smsgw.sender import Sender


def point_accounts_at(port: int) -> None:
    """Make every CMPP account log in to the simulator on `port`."""
    CmppAccount.objects.update(ismg_host="127.0.0.1", ismg_port=port)


def simulator_accounts() -> tuple[Account, ...]:
    return tuple(
        Account(a.sp_id, crypto.decrypt(a.secret_encrypted)) for a in CmppAccount.objects.all()
    )


def run_sender_with_simulator(*, before=None, sim_options=None, sender_options=None, timeout=30):
    """Start a simulator for the database's accounts, run one sender until the outbox is
    idle; `before(sim)` runs once the sender is up (e.g. to push MO). Returns
    (sender stats, simulator)."""
    sim_options = {"dlr_delay": 0.05, **(sim_options or {})}

    accounts = simulator_accounts()

    async def main():
        config = SimulatorConfig(accounts=accounts, **sim_options)
        async with Simulator(config) as sim:
            await asyncio.to_thread(point_accounts_at, sim.port)
            sender = Sender(
                until_idle=True,
                idle_grace=0.3,
                poll_interval=0.05,
                **(sender_options or {}),
            )
            task = asyncio.create_task(sender.run())
            if before is not None:
                await sim.wait_logged_in(1)
                await before(sim)
            async with asyncio.timeout(timeout):
                stats = await task
            return stats, sim

    return asyncio.run(main())


@pytest.fixture
def sender_run():
    return run_sender_with_simulator
