"""Benchmark: a 100,000-recipient campaign from sms_enqueue to every status report recorded.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mas_sms \\
    python benchmarks/sms_campaign.py --count 100000

On PostgreSQL only. It creates a scratch database next to DATABASE_URL's (`<name>_bench`,
dropped at the end unless --keep), migrates it and provisions one subscription through
fulfillment (CMPP account licensed for --rate msg/s on --links links, window 16), with
--count registered recipients. The bundled ISMG simulator runs as its own process
(`python -m smsgw.cmpp simulate`, reports after 0.5 s). Two scenarios, one campaign each:

1. one sender (`manage.py smsgw_run --until-idle`);
2. two senders at once, sharing the outbox.

Phases, timed separately: enqueue (`sms_enqueue_campaign` with the numbers, in this
process: checks, segmentation, bulk insert), submit (from the senders' start to the last
segment with a Msg_Id) and reports (to the last message in a final state), polled every
0.5 s. After each
scenario it checks that no message was submitted twice: every message has exactly its
segments, the Msg_Ids are unique, and the senders' accepted counts add up to the count.
"""

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from _cluster import recreate, scratch_database

ROOT = Path(__file__).resolve().parent.parent
SIM_PORT = 17990
TEXT = "【演示】尊敬的客户，双十二会员日全场八折，凭本短信到店再享好礼。"


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=20_000, help="licensed msg/s of the account")
    parser.add_argument("--links", type=int, default=2, help="links per sender")
    parser.add_argument("--batch", type=int, default=1000, help="rows per claim")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--only", choices=["one", "two"], help="run one scenario only")
    return parser.parse_args()


def _fixtures(count: int, rate: int, links: int):
    """One active subscription with `count` registered recipients, its account on the
    simulator; returns (subscription, numbers, secret)."""
    from django.contrib.auth.models import Group

    from core import crypto
    from core.models import User
    from customers.models import RegisteredRecipient
    from fulfillment.models import CmppAccount
    from tests.fulfillment.factories import active_subscription

    manager = User.objects.create_user("bench_manager", is_staff=True)
    manager.groups.add(Group.objects.get(name="customer_manager"))
    subscription = active_subscription(manager)
    CmppAccount.objects.filter(subscription=subscription).update(
        licensed_rate=rate,
        max_links=links,
        window_size=16,
        ismg_host="127.0.0.1",
        ismg_port=SIM_PORT,
    )
    numbers = [f"1{3 + n // 10**9 % 6}{n % 10**9:09d}" for n in range(count)]
    RegisteredRecipient.objects.bulk_create(
        (
            RegisteredRecipient(
                enterprise_id=subscription.enterprise_id,
                msisdn=number,
                consent_source="基准测试",
                consented_at=subscription.activated_at,
            )
            for number in numbers
        ),
        batch_size=5000,
    )
    account = CmppAccount.objects.get(subscription=subscription)
    return subscription, numbers, account.sp_id, crypto.decrypt(account.secret_encrypted)


def _sender(env: dict, name: str, batch: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "smsgw_run",
            "--until-idle",
            "--sender-id",
            name,
            "--batch",
            str(batch),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _scenario(label, senders, env, subscription, numbers, batch) -> dict:
    from django.db import connection
    from django.db.models import Count

    from smsgw.models import FINAL_STATES, Message, MessageState, Segment
    from smsgw.services import sms_enqueue_campaign

    count = len(numbers)
    started = time.perf_counter()
    request = sms_enqueue_campaign(subscription_id=subscription.pk, text=TEXT, recipients=numbers)
    enqueue = time.perf_counter() - started
    assert request.accepted_count == count, request.refused[:3]

    mine = Message.objects.filter(send_request=request)
    segments = Segment.objects.filter(message__send_request=request)
    expected = count * request.segments_per_message
    begin = time.perf_counter()
    procs = [_sender(env, f"bench-{n}", batch) for n in range(1, senders + 1)]
    # Cheap probes first (index on state): counting 100,000 rows every poll would
    # load the database the senders are measured on; the exact count confirms.
    unsubmitted = mine.filter(state__in=[MessageState.QUEUED, MessageState.SUBMITTING])
    unfinished = mine.filter(
        state__in=[MessageState.QUEUED, MessageState.SUBMITTING, MessageState.SUBMITTED]
    )
    submitted_at = reported_at = None
    while True:
        time.sleep(0.5)  # the phases are measured to this resolution
        now = time.perf_counter()
        if (
            submitted_at is None
            and not unsubmitted.exists()
            and segments.exclude(msg_id="").count() >= expected
        ):
            submitted_at = now
        if (
            submitted_at is not None
            and not unfinished.exists()
            and mine.filter(state__in=FINAL_STATES).count() >= count
        ):
            reported_at = now
            break
        if all(p.poll() is not None for p in procs):
            break
        if now - begin > 900:
            raise SystemExit("campaign did not finish in 15 minutes")
    accepted = []
    for proc in procs:
        output, _ = proc.communicate(timeout=120)
        match = re.search(r"submitted (\d+)", output or "")
        accepted.append(int(match.group(1)) if match else -1)
    reported_at = reported_at or time.perf_counter()
    submitted_at = submitted_at or reported_at
    connection.close()
    per_message = set(
        segments.values("message_id").annotate(n=Count("id")).values_list("n", flat=True)
    )
    distinct_ids = segments.values("msg_id").distinct().count()
    return {
        "scenario": label,
        "count": count,
        "segments": expected,
        "enqueue_s": enqueue,
        "submit_s": submitted_at - begin,
        "reports_s": reported_at - submitted_at,
        "total_s": enqueue + (reported_at - begin),
        "delivered": mine.filter(state="delivered").count(),
        "final": mine.filter(state__in=FINAL_STATES).count(),
        "per_sender": accepted,
        "no_duplicates": per_message == {request.segments_per_message}
        and distinct_ids == expected
        and sum(accepted) == expected,
    }


def main() -> None:
    args = _parse()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (postgresql://…)")
    admin_url, scratch_url = scratch_database(database_url, "bench")
    recreate(admin_url, scratch_url)
    os.environ.update(
        DATABASE_URL=scratch_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        CELERY_TASK_ALWAYS_EAGER="1",
        LOG_LEVEL="WARNING",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    sim = None
    try:
        call_command("migrate", verbosity=0)
        subscription, numbers, sp_id, secret = _fixtures(args.count, args.rate, args.links)
        sim = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "smsgw.cmpp",
                "--log-level",
                "WARNING",
                "simulate",
                "--listen",
                f"127.0.0.1:{SIM_PORT}",
                "--account",
                f"{sp_id}:{secret}",
                "--dlr-delay",
                "0.5",
            ],
            cwd=ROOT,
        )
        time.sleep(1.5)
        env = {**os.environ, "SMSGW_LEASE_SECONDS": "60"}
        print(
            "| scenario | messages | enqueue s | submit s | reports s | total s | "
            "msg/s end to end | per sender | no duplicates |",
            flush=True,
        )
        print("|---|---|---|---|---|---|---|---|---|", flush=True)
        for label, senders in (("one sender", 1), ("two senders", 2)):
            if args.only and args.only != label.split()[0]:
                continue
            r = _scenario(label, senders, env, subscription, numbers, args.batch)
            print(
                f"| {r['scenario']} | {r['count']:,} | {r['enqueue_s']:.1f} | {r['submit_s']:.1f} "
                f"| {r['reports_s']:.1f} | {r['total_s']:.1f} | "
                f"{r['count'] / r['total_s']:,.0f} | {', '.join(map(str, r['per_sender']))} | "
                f"{'yes' if r['no_duplicates'] else 'NO'} |",
                flush=True,
            )
            print(r, flush=True)
    finally:
        if sim is not None:
            sim.terminate()
            sim.wait(10)
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate(admin_url, scratch_url, drop_only=True)


if __name__ == "__main__":
    main()
