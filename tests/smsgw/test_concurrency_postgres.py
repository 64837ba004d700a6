"""PostgreSQL only: two senders share one outbox; a sender killed with SIGKILL loses nothing."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from customers.models import RegisteredRecipient
from fulfillment.models import CmppAccount
from smsgw.cmpp.simulator import Simulator, SimulatorConfig
from smsgw.models import Message, MessageState, Segment
from smsgw.sender import Sender
from smsgw.services import sms_enqueue

from .conftest import point_accounts_at, simulator_accounts
from .factories import sending_subscription

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[2]


def _campaign(manager, count: int):
    sub = sending_subscription(manager, recipients=0)
    numbers = [f"1370000{n:04d}" for n in range(count)]
    RegisteredRecipient.objects.bulk_create(
        RegisteredRecipient(
            enterprise_id=sub.enterprise_id,
            msisdn=number,
            consent_source="测试",
            consented_at=sub.activated_at,
        )
        for number in numbers
    )
    request = sms_enqueue(subscription_id=sub.pk, recipients=numbers, text="并发测试")
    assert request.accepted_count == count
    return sub, request


def test_two_senders_share_the_outbox_without_sending_anything_twice(manager):
    _sub, request = _campaign(manager, 600)
    accounts = simulator_accounts()

    async def main():
        async with Simulator(SimulatorConfig(accounts=accounts, dlr_delay=0.05)) as sim:
            await asyncio.to_thread(point_accounts_at, sim.port)
            senders = [
                Sender(sender_id=name, until_idle=True, idle_grace=0.5, claim_batch=50)
                for name in ("sender-a", "sender-b")
            ]
            async with asyncio.timeout(120):
                stats = await asyncio.gather(*(s.run() for s in senders))
            return stats, sim.counters.submits

    (a, b), submits = asyncio.run(main())

    assert submits == 600, "a message was submitted twice"
    assert a.submitted > 0 and b.submitted > 0, (a, b)
    assert a.submitted + b.submitted == 600
    assert request.messages.filter(state=MessageState.DELIVERED).count() == 600
    assert Segment.objects.values("msg_id").distinct().count() == 600


class _SimulatorThread:
    """The simulator on its own loop in a thread, so that a subprocess sender can use it."""

    def __init__(self, accounts):
        self.accounts = accounts
        self.ready = threading.Event()
        self.sim = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self):
        self._stop = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        async with Simulator(SimulatorConfig(accounts=self.accounts, dlr_delay=0.05)) as sim:
            self.sim = sim
            self.ready.set()
            await self._stop.wait()

    def __enter__(self):
        self.thread.start()
        assert self.ready.wait(10)
        return self.sim

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(10)


def _sender(*extra):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": "postgresql://{USER}@{HOST}:{PORT}/{NAME}".format(
            **{k: connection.settings_dict[k] or "" for k in ("USER", "HOST", "PORT", "NAME")}
        ),
        "SMSGW_LEASE_SECONDS": "2",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "smsgw_run", "--batch", "50", *extra],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _submitted() -> int:
    return Segment.objects.exclude(msg_id="").count()


def test_a_sender_killed_mid_campaign_loses_nothing_and_resends_only_the_window(manager):
    count = 600
    _sub, request = _campaign(manager, count)
    CmppAccount.objects.update(licensed_rate=150, max_links=1, window_size=16)
    with _SimulatorThread(simulator_accounts()) as sim:
        point_accounts_at(sim.port)
        first = _sender()
        deadline = time.monotonic() + 60
        while _submitted() < 100:
            assert time.monotonic() < deadline, first.stdout.read().decode()[-2000:]
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        at_kill = _submitted()
        assert at_kill < count, "the campaign finished before the kill"
        recorded = dict(Segment.objects.exclude(msg_id="").values_list("id", "msg_id"))
        unrecorded = Message.objects.filter(state=MessageState.SUBMITTING).count()

        second = _sender("--until-idle")
        output, _ = second.communicate(timeout=180)
        assert second.returncode == 0, output.decode()[-2000:]
        submits = sim.counters.submits

    assert request.messages.filter(state=MessageState.DELIVERED).count() == count
    assert Message.objects.exclude(state=MessageState.DELIVERED).count() == 0
    # Nothing recorded as accepted before the kill went again (same segment, same Msg_Id);
    # only what the dead sender held unrecorded (its window) may have gone twice.
    after = dict(Segment.objects.filter(id__in=recorded).values_list("id", "msg_id"))
    assert after == recorded
    assert Segment.objects.count() == count
    resent = submits - count
    assert 0 <= resent <= unrecorded, (resent, unrecorded)
