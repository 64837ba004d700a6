"""Soak test: 10 minutes of steady API sends, two senders, faults, a SIGKILL halfway.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mas_ops \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/8 \\
    python benchmarks/soak.py --minutes 10 --rate 20

On a scratch database (`<name>_soak`) with the demo data: one gunicorn web process
(2 workers), two Celery workers (report webhooks to a receiver here) and two
`smsgw_run` senders, against the ISMG simulator running in this process. For the whole
run the enterprise API receives `--rate` messages a second (one batch a second, each
batch with its own text so that every (number, batch) pair is unique), while the
simulator injects faults:

- every minute it drops all CMPP links (the senders reconnect);
- every 90 s a Result 8 burst: every SUBMIT answered "flow control" for 3 s;
- every 2 minutes, delayed responses: SUBMIT_RESP held back 1.5 s for 10 s;
- halfway, sender1 is killed with SIGKILL and restarted 5 s later (its leases expire
  and the other sender, or the restarted one, takes its messages over).

Then sending stops and the run drains (until every message is final, at most
--drain seconds). Reported: accepted, delivered, failed by reason, lost (accepted and
neither delivered nor failed with a reason — must be 0), sent twice at the gateway
(possible only for the unacknowledged window at a link drop or the kill), p50/p99 from
acceptance to the status report, and each process's memory at start and end.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _cluster


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=20, help="messages per second accepted")
    parser.add_argument("--recipients", type=int, default=5000, help="registered numbers")
    parser.add_argument("--dlr-delay", type=float, default=1.0)
    parser.add_argument("--dlr-fail-ratio", type=float, default=0.02)
    parser.add_argument("--drain", type=float, default=300.0)
    parser.add_argument("--licensed-rate", type=int, default=400, help="msg/s per account")
    parser.add_argument("--keep", action="store_true")
    return parser.parse_args()


class Faults(threading.Thread):
    """Drives the simulator's fault knobs on a schedule (see the module docstring)."""

    def __init__(self, sim: _cluster.SimulatorThread, stop: threading.Event):
        super().__init__(name="faults", daemon=True)
        self.sim = sim
        self.stop_event = stop
        self.events = collections.Counter()
        self.drops: list[float] = []

    def _set(self, **knobs):
        def apply():
            for name, value in knobs.items():
                setattr(self.sim.sim.faults, name, value)

        self.sim.call(apply)

    def run(self) -> None:
        started = time.monotonic()
        second = 0
        while not self.stop_event.wait(max(0.0, started + second + 1 - time.monotonic())):
            second += 1
            if second % 60 == 0:
                dropped = self.sim.call(self.sim.sim.drop_links)
                self.events["links dropped"] += dropped
                self.drops.append(time.time())
            if second % 90 == 45:
                self._set(submit_result=8)
                self.events["Result 8 bursts"] += 1
            if second % 90 == 48:
                self._set(submit_result=None)
            if second % 120 == 100:
                self._set(response_delay=1.5)
                self.events["delayed-response spells"] += 1
            if second % 120 == 110:
                self._set(response_delay=0.0)
        self._set(submit_result=None, response_delay=0.0)


def main() -> None:
    args = _parse()
    env, scratch_url, admin_url, accounts, subscription_id, recipients, port = _cluster.prepare(
        args, "soak"
    )
    from django.db.models import Count

    from smsgw.models import FINAL_STATES, Message, MessageState, Segment

    sim = _cluster.SimulatorThread(
        accounts, port=port, dlr_delay=args.dlr_delay, dlr_fail_ratio=args.dlr_fail_ratio
    ).start()
    receiver = _cluster.WebhookReceiver()
    log_dir = Path(tempfile.mkdtemp(prefix="mas-soak-"))
    cluster = _cluster.Cluster(env, log_dir)
    stop = threading.Event()
    faults = Faults(sim, stop)
    request_ids: list[int] = []
    markers: dict[str, int] = {}
    api = collections.Counter()
    memory: dict[str, dict] = {}
    try:
        web = cluster.web("web1")
        cluster.worker("worker1")
        cluster.worker("worker2")
        cluster.sender("sender1")
        cluster.sender("sender2")
        cluster.wait_ready()
        status, body = _cluster.api_post(
            web,
            "/api/v1/sms/webhook",
            {"url": receiver.url, "sendReports": True, "sendReplies": True, "active": True},
            method="PUT",
        )
        assert status == 200, (status, body)
        time.sleep(5)  # let the senders log in before measuring their memory
        memory["start"] = cluster.memory()

        duration = args.minutes * 60
        started = time.monotonic()
        faults.start()
        killed_at = restarted_at = None
        killed_wall = 0.0
        batch = 0
        cursor = 0
        while time.monotonic() - started < duration:
            due = started + batch
            time.sleep(max(0.0, due - time.monotonic()))
            numbers = [recipients[(cursor + i) % len(recipients)] for i in range(args.rate)]
            cursor += args.rate
            marker = f"浸泡{batch:05d}"
            status, body = _cluster.api_post(
                web,
                "/api/v1/sms/requests",
                {
                    "subscriptionId": subscription_id,
                    "recipients": numbers,
                    "text": f"{marker}：您的快件已到达，请凭取件码取件。",
                },
            )
            if status == 202:
                api["accepted"] += body["accepted"]
                api["refused"] += body["refused"]
                request_ids.append(body["id"])
                markers[marker] = body["id"]
            else:
                api[f"http {status}"] += len(numbers)
            batch += 1
            elapsed = time.monotonic() - started
            if killed_at is None and elapsed >= duration / 2:
                memory["sender1 before kill"] = cluster.memory().get("sender1", 0)
                cluster.kill("sender1", signal.SIGKILL)
                killed_at = elapsed
                killed_wall = time.time()
            if killed_at is not None and restarted_at is None and elapsed >= killed_at + 5:
                cluster.sender("sender1")
                restarted_at = elapsed
                memory["sender1 restarted at"] = 0
        sending_seconds = time.monotonic() - started
        stop.set()
        faults.join(10)
        memory["end of sending"] = cluster.memory()

        campaign = Message.objects.filter(send_request__in=request_ids)
        drain_started = time.monotonic()
        while time.monotonic() - drain_started < args.drain:
            if not campaign.exclude(state__in=FINAL_STATES).exists():
                break
            time.sleep(1)
        drained = time.monotonic() - drain_started
        memory["end"] = cluster.memory()
        alive = cluster.alive()
        awaiting = list(
            Segment.objects.filter(message__in=campaign, state=MessageState.SUBMITTED).values_list(
                "message__send_request_id", "message__msisdn", "sender", "submitted_at"
            )
        )
    finally:
        stop.set()
        cluster.stop()
        submits = sim.submits()
        counters = sim.counters()
        sim.stop()
        receiver.stop()

    from smsgw.cmpp.text import decode_text

    at_gateway: collections.Counter = collections.Counter()
    first_seen: dict[tuple, float] = {}
    for received in submits:
        try:
            text = decode_text(received.submit.msg_fmt, received.submit.msg_content)
        except Exception:  # noqa: S112 (not one of ours)
            continue
        marker = text.split("：", 1)[0][-7:]
        if marker in markers:
            for dest in received.submit.dest_terminal_ids:
                at_gateway[(markers[marker], dest)] += 1
                first_seen.setdefault((markers[marker], dest), received.received_at)
    # Reports that never came: the segment was accepted by the gateway (it has a Msg_Id),
    # but its DELIVER went down with a dropped link or the killed sender before being
    # stored and acknowledged. An ISMG re-sends an unacknowledged DELIVER; the bundled
    # simulator does not, so these wait for the report timeout (48 h), after which they
    # are `expired` — failed with a reason. The clock is moved past it to see that end.
    awaiting_at_gateway = sum(1 for r, m, _, _ in awaiting if at_gateway.get((r, m)) == 1)
    awaiting_by_sender = collections.Counter(sender for _, _, sender, _ in awaiting)
    from core import clock
    from smsgw.outbox import segments_expire_overdue

    clock.freeze(clock.now() + dt.timedelta(hours=49))
    expired_after_timeout = segments_expire_overdue()
    clock.unfreeze()
    states = dict(campaign.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    failed_reasons = {
        (error or "expired: no report within 48 h" if state == MessageState.EXPIRED else error): n
        for state, error, n in campaign.filter(
            state__in=[MessageState.FAILED, MessageState.EXPIRED]
        )
        .values_list("state", "error")
        .annotate(n=Count("id"))
        .values_list("state", "error", "n")
    }
    pairs = set(campaign.values_list("send_request_id", "msisdn"))
    delivered_unseen = sum(
        1
        for request_id, msisdn in campaign.filter(state=MessageState.DELIVERED).values_list(
            "send_request_id", "msisdn"
        )
        if (request_id, msisdn) not in at_gateway
    )
    not_final = campaign.exclude(state__in=FINAL_STATES).count()
    # The expired state is its own reason (no report within the timeout).
    failed_without_reason = campaign.filter(state=MessageState.FAILED, error="").count()
    lost = not_final + delivered_unseen + failed_without_reason
    twice = {pair: n for pair, n in at_gateway.items() if n > 1 and pair in pairs}
    resubmitted = campaign.filter(attempts__gt=1).count()

    # Where the duplicates come from: a SUBMIT the gateway accepted whose response the
    # sender never stored — in flight when sender1 was killed, or when links dropped.
    def cause(first: float) -> str:
        if killed_wall and killed_wall - 10 <= first <= killed_wall:
            return "in flight at the SIGKILL"
        if any(drop - 10 <= first <= drop for drop in faults.drops):
            return "in flight at a link drop"
        return "other"

    twice_causes = collections.Counter(cause(first_seen[pair]) for pair in twice)
    latencies = [
        (report_at - created).total_seconds()
        for created, report_at in Segment.objects.filter(
            message__in=campaign, report_at__isnull=False
        ).values_list("message__created_at", "report_at")
    ]
    print(f"\n== soak: {args.minutes:g} min at {args.rate} msg/s, PostgreSQL + Redis ==")
    print(f"sending             {sending_seconds:.0f} s, {len(request_ids)} API calls")
    print(f"API                 {dict(api)}")
    print(f"faults              {dict(faults.events)}; sender1 SIGKILL at {killed_at:.0f} s,")
    print(f"                    restarted at {restarted_at:.0f} s")
    print(f"drained in          {drained:.0f} s")
    print(f"states              {states}")
    print(f"failed by reason    {failed_reasons}")
    print(
        f"awaiting a report   {len(awaiting)} after the drain, {awaiting_at_gateway} of them"
        f" accepted once by the gateway; by sender {dict(awaiting_by_sender)}"
    )
    print(f"report timeout      {expired_after_timeout} segments expired (clock moved 49 h)")
    print(f"lost                {lost} (not final {not_final}, delivered but never at the")
    print(f"                    gateway {delivered_unseen}, failed without a reason")
    print(f"                    {failed_without_reason})")
    print(f"sent twice          {len(twice)} {dict(twice_causes)}; bound: the window,")
    print(f"                    16 x links; outbox rows with attempts > 1: {resubmitted}")
    print(
        f"accept -> report    p50 {_cluster.percentile(latencies, 0.5):.2f} s, "
        f"p99 {_cluster.percentile(latencies, 0.99):.2f} s ({len(latencies)} reports)"
    )
    print(f"simulator           {counters}")
    print(f"processes alive     {alive}")
    for label in ("start", "end of sending", "end"):
        values = memory.get(label, {})
        print(
            f"memory {label:<13}"
            + ", ".join(f"{name} {kib / 1024:.0f}" for name, kib in sorted(values.items()))
            + " MiB"
        )
    print(f"sender1 before kill {memory.get('sender1 before kill', 0) / 1024:.0f} MiB")
    print(f"logs                {log_dir}")
    from django.db import connections

    connections.close_all()
    if not args.keep:
        _cluster.recreate(admin_url, scratch_url, drop_only=True)
    raise SystemExit(0 if lost == 0 else 1)


if __name__ == "__main__":
    main()
