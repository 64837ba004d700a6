"""manage.py smsgw_simulator: the bundled ISMG simulator with the database's accounts.

`python -m smsgw.cmpp simulate` needs every SP_Id:secret on its command line; this
command reads them from the database instead (the subscriptions' CMPP accounts and the
operator's service accounts) and picks up new accounts every few seconds, so `make run`
works with whatever the demo or the staff provisioned.
"""

import asyncio
import contextlib
import logging
import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from smsgw.cmpp.simulator import Account, Simulator, SimulatorConfig
from smsgw.sender import accounts_load

log = logging.getLogger("smsgw.simulator")


class Command(BaseCommand):
    help = "Run the bundled ISMG simulator for the accounts in the database."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.FULFILLMENT_ISMG_HOST)
        parser.add_argument("--port", type=int, default=settings.FULFILLMENT_ISMG_PORT)
        parser.add_argument("--dlr-delay", type=float, default=0.5)
        parser.add_argument("--dlr-fail-ratio", type=float, default=0.02)
        parser.add_argument("--refresh", type=float, default=5.0, help="account reload seconds")

    def handle(self, *args, **options):
        async def main():
            accounts = await asyncio.to_thread(_accounts)
            config = SimulatorConfig(
                accounts=tuple(accounts),
                host=options["host"],
                port=options["port"],
                dlr_delay=options["dlr_delay"],
                dlr_fail_ratio=options["dlr_fail_ratio"],
                record_submits=False,
            )
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(signum, stop.set)
            async with Simulator(config) as sim:
                self.stdout.write(f"ISMG simulator on {sim.address}, {len(accounts)} accounts")
                while not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), options["refresh"])
                    try:
                        fresh = await asyncio.to_thread(_accounts)
                    except Exception:
                        log.exception("reloading accounts failed")
                        continue
                    sim.accounts = {a.sp_id: a for a in fresh}

        asyncio.run(main())


def _accounts() -> list[Account]:
    from django.db import connections

    try:
        return [Account(spec.sp_id, spec.secret) for spec in accounts_load()]
    finally:
        connections.close_all()
