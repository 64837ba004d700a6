"""Scale-out demonstration: 2 web, 2 workers, 2 senders on PostgreSQL + Redis, one campaign.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mas_ops \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/8 \\
    python benchmarks/scale_out.py --recipients 4000

Builds a scratch database (`<name>_scale`, dropped unless --keep) with the demo data,
registers the campaign's recipients, starts the ISMG simulator in this process (it
records every SUBMIT it accepts), then two gunicorn web processes, two Celery workers
(all queues) and two `smsgw_run` senders with production settings. The campaign — one
text to every recipient — is posted through the enterprise SMS API in batches, half to
each web process, from two client threads at once. The enterprise's report webhook
points at a receiver here, so the workers deliver every report.

It waits until every message is final, then checks at the gateway that no recipient
got the campaign twice and that nothing was lost, and reports the acceptance rate,
throughput, each sender's share, p50/p99 from acceptance to report, and the webhooks.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _cluster


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=250, help="numbers per API call")
    parser.add_argument("--licensed-rate", type=int, default=500, help="msg/s per account")
    parser.add_argument("--dlr-delay", type=float, default=0.5)
    parser.add_argument("--dlr-fail-ratio", type=float, default=0.02)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    return parser.parse_args()


def main() -> None:
    args = _parse()
    env, scratch_url, admin_url, accounts, subscription_id, recipients, port = _cluster.prepare(
        args, "scale"
    )
    from django.db.models import Count

    from smsgw.models import FINAL_STATES, Message, Segment

    marker = f"扩展演示{os.getpid()}"
    text = f"{marker}：您的快件已到达，请凭取件码取件。"
    sim = _cluster.SimulatorThread(
        accounts, port=port, dlr_delay=args.dlr_delay, dlr_fail_ratio=args.dlr_fail_ratio
    ).start()
    receiver = _cluster.WebhookReceiver()
    log_dir = Path(tempfile.mkdtemp(prefix="mas-scale-"))
    cluster = _cluster.Cluster(env, log_dir)
    try:
        web = [cluster.web("web1"), cluster.web("web2")]
        cluster.worker("worker1")
        cluster.worker("worker2")
        cluster.sender("sender1")
        cluster.sender("sender2")
        cluster.wait_ready()
        status, body = _cluster.api_post(
            web[0],
            "/api/v1/sms/webhook",
            {"url": receiver.url, "sendReports": True, "sendReplies": True, "active": True},
            method="PUT",
        )
        assert status == 200, (status, body)
        memory_start = cluster.memory()

        batches = [recipients[i : i + args.batch] for i in range(0, len(recipients), args.batch)]
        accepted = collections.Counter()
        refused = collections.Counter()
        request_ids = []
        errors: list = []
        lock = threading.Lock()

        def client(index: int) -> None:
            for n, numbers in enumerate(batches):
                if n % 2 != index:
                    continue
                status, body = _cluster.api_post(
                    web[index],
                    "/api/v1/sms/requests",
                    {"subscriptionId": subscription_id, "recipients": numbers, "text": text},
                )
                with lock:
                    if status == 202:
                        accepted[f"web{index + 1}"] += body["accepted"]
                        refused["numbers"] += body.get("refused", 0)
                        request_ids.append(body["id"])
                    else:
                        refused[f"http {status}"] += len(numbers)
                        errors.append(body)

        started = time.monotonic()
        clients = [threading.Thread(target=client, args=(i,)) for i in range(2)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        accept_seconds = time.monotonic() - started
        total_accepted = sum(accepted.values())

        campaign = Message.objects.filter(send_request__in=request_ids)
        campaign_ids = set(campaign.values_list("id", flat=True))
        deadline = time.monotonic() + args.timeout
        finished = None
        while time.monotonic() < deadline:
            if finished is None and not campaign.exclude(state__in=FINAL_STATES).exists():
                finished = time.monotonic() - started
            with receiver.lock:
                hooked = len(campaign_ids & set(receiver.reports))
            if finished is not None and hooked >= total_accepted:
                break
            time.sleep(0.5)
        hooks_done = time.monotonic() - started
        finished = finished or hooks_done
        memory_end = cluster.memory()
        alive = cluster.alive()
    finally:
        cluster.stop()
        submits = sim.submits()
        counters = sim.counters()
        sim.stop()
        receiver.stop()

    at_gateway = collections.Counter(
        dest for s in submits if marker in _decode(s.submit) for dest in s.submit.dest_terminal_ids
    )
    twice = {dest: n for dest, n in at_gateway.items() if n > 1}
    states = dict(campaign.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    lost = [r for r in recipients if r not in at_gateway]
    per_sender = dict(
        Segment.objects.filter(message__in=campaign)
        .values_list("sender")
        .annotate(n=Count("id"))
        .values_list("sender", "n")
    )
    latencies = [
        (report_at - created).total_seconds()
        for created, report_at in Segment.objects.filter(
            message__in=campaign, report_at__isnull=False
        ).values_list("message__created_at", "report_at")
    ]
    webhook_twice = sum(1 for m, n in receiver.reports.items() if m in campaign_ids and n > 1)
    hooked = len(campaign_ids & set(receiver.reports))
    print("\n== scale-out: 2 web, 2 workers, 2 senders, PostgreSQL + Redis ==")
    print(f"campaign            {len(recipients)} recipients in {len(batches)} API calls")
    print(f"accepted            {total_accepted} ({dict(accepted)}), refused {dict(refused)}")
    rate = total_accepted / accept_seconds
    print(f"API acceptance      {accept_seconds:.1f} s, {rate:.0f} msg/s")
    print(f"all final after     {finished:.1f} s, {total_accepted / finished:.0f} msg/s end to end")
    print(f"states              {states}")
    if errors:
        print(f"first API error     {str(errors[0])[:300]}")
    print(f"submits per sender  {per_sender}")
    print(f"at the gateway      {sum(at_gateway.values())} submits, {len(at_gateway)} recipients")
    print(f"sent twice          {len(twice)}")
    print(f"lost                {len(lost)}")
    print(
        f"accept -> report    p50 {_cluster.percentile(latencies, 0.5):.2f} s, "
        f"p99 {_cluster.percentile(latencies, 0.99):.2f} s"
    )
    print(
        f"report webhooks     {hooked} of {len(campaign_ids)} messages after {hooks_done:.1f} s,"
        f" {webhook_twice} twice"
    )
    print(f"simulator           {counters}")
    print(f"processes alive     {alive}")
    print(
        "memory (MiB)        "
        + ", ".join(
            f"{name} {memory_start.get(name, 0) / 1024:.0f}->{memory_end.get(name, 0) / 1024:.0f}"
            for name in sorted(memory_start)
        )
    )
    print(f"logs                {log_dir}")
    from django.db import connections

    connections.close_all()
    if not args.keep:
        _cluster.recreate(admin_url, scratch_url, drop_only=True)
    ok = not twice and not lost and total_accepted == len(recipients)
    raise SystemExit(0 if ok else 1)


def _decode(submit) -> str:
    from smsgw.cmpp.text import decode_text

    try:
        return decode_text(submit.msg_fmt, submit.msg_content)
    except Exception:
        return ""


if __name__ == "__main__":
    main()
