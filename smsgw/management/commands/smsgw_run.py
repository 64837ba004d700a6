"""manage.py smsgw_run: the long-running SMS sender (see smsgw/sender.py)."""

import asyncio
import contextlib
import signal

from django.core.management.base import BaseCommand

from smsgw.sender import Sender


class Command(BaseCommand):
    help = "Send the SMS outbox over CMPP and record reports and replies (runs until stopped)."

    def add_arguments(self, parser):
        parser.add_argument("--sender-id", default=None, help="name shown in link status")
        parser.add_argument("--batch", type=int, default=500, help="rows claimed at a time")
        parser.add_argument(
            "--until-idle",
            action="store_true",
            help="exit when nothing is due, in flight or awaiting a report (benchmarks)",
        )

    def handle(self, *args, **options):
        sender = Sender(
            sender_id=options["sender_id"],
            claim_batch=options["batch"],
            until_idle=options["until_idle"],
        )

        async def main():
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(signum, sender.stop)
            return await sender.run()

        stats = asyncio.run(main())
        self.stdout.write(
            f"sender {sender.sender_id}: claimed {stats.claimed}, submitted {stats.submitted}, "
            f"rejected {stats.rejected}, reports {stats.reports}, replies {stats.replies}"
        )
