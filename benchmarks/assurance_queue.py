"""Benchmark: the NOC queue page with 50,000 open tickets on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mas_assurance \\
    python benchmarks/assurance_queue.py --tickets 50000 --requests 200

It creates a scratch database next to DATABASE_URL's (`<name>_bench`, dropped at the end
unless --keep), migrates it, bulk-loads enterprises and open tickets (every open state,
every fault class, clocks running, paused, breached, not covered, reported over the last
30 hours), runs ANALYZE, then requests the queue page as a logged-in NOC engineer through
Django's test client: the default view (most urgent first), each filter, and later
pages. It reports the server time per request (p50, p95, max: the full Django request,
template rendering included, no network) and the number of SQL queries of each request,
which must not grow with the data.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _cluster import recreate, scratch_database

ROOT = Path(__file__).resolve().parent.parent


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--enterprises", type=int, default=500)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--reuse", action="store_true", help="measure a kept scratch database again (no load)"
    )
    return parser.parse_args()


def _load(args) -> object:
    """Enterprises, a NOC user and the open tickets; returns the user."""
    import datetime as dt

    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from assurance.models import FaultClass, Ticket
    from core.models import User
    from customers.models import Enterprise

    rng = random.Random(7)
    enterprises = Enterprise.objects.bulk_create(
        Enterprise(name=f"基准测试企业{i:04d}有限公司", brands=f"品牌{i}", city="郑州市")
        for i in range(args.enterprises)
    )
    user = User.objects.create_user("noc_bench", is_staff=True)
    user.groups.add(Group.objects.get(name="noc_engineer"))
    classes = list(FaultClass.objects.all())
    now = timezone.now()
    states = [s for s in Ticket.OPEN_STATES]
    batch = []
    for i in range(args.tickets):
        fault_class = rng.choice(classes)
        reported = now - dt.timedelta(seconds=rng.randint(0, 30 * 3600))
        state = rng.choices(states, weights=[4, 8, 2, 1])[0]
        target = fault_class.target_seconds
        ticket = Ticket(
            state=state,
            name=f"基准工单 {i}",
            description="短信发送失败",
            ticket_type=rng.choice(["connectivity", "delivery", "mo"]),
            severity=rng.choice(["critical", "major", "minor"]),
            channel="portal",
            enterprise=rng.choice(enterprises),
            fault_class=fault_class,
            reported_at=reported,
            status_changed_at=reported,
            owner=user if state != "acknowledged" and rng.random() < 0.3 else None,
            resource_text=(
                f"1069037{rng.randint(10000, 99999)} 郑州MAS-0{rng.randint(1, 3)}:{i % 64}"
            ),
            sla_target_seconds=target,
        )
        if target is not None:
            if state == "pending":
                ticket.sla_paused_since = reported + dt.timedelta(minutes=30)
                ticket.sla_remaining_seconds = target - 1800
            else:
                ticket.sla_deadline = reported + dt.timedelta(seconds=target)
                ticket.sla_next_check_at = ticket.sla_deadline
                ticket.sla_breached = ticket.sla_deadline < now
        batch.append(ticket)
        if len(batch) == 5000:
            Ticket.objects.bulk_create(batch)
            batch = []
    Ticket.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE assurance_ticket")
    return user, enterprises


def _measure(user, enterprises, requests: int) -> list[tuple[str, list[float], set[int]]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    url = "/admin/assurance/ticket/queue/"
    scenarios = [
        ("默认（最紧急在前）", {}),
        ("第 20 页", {"page": "20"}),
        ("故障类别=骨干", {"fault_class": "backbone"}),
        ("严重程度=critical", {"severity": "critical"}),
        ("负责人=我", {"owner": "me"}),
        ("未受理", {"owner": "none"}),
        ("单个企业", {"enterprise": str(enterprises[3].pk)}),
        ("资源（端口）", {"resource": "郑州MAS-02:17"}),
        ("状态=pending", {"state": "pending"}),
    ]
    client.get(url, secure=True)  # warm up
    results = []
    for label, params in scenarios:
        timings, queries, sql_ms = [], set(), []
        for _ in range(max(1, requests // len(scenarios))):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url, params, secure=True)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            queries.add(len(captured.captured_queries))
            sql_ms.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
        results.append((label, timings, queries, sql_ms))
    return results


def main() -> None:
    args = _parse()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("set DATABASE_URL to a PostgreSQL database (its name is the base)")
    admin_url, scratch_url = scratch_database(url, "bench")
    if not args.reuse:
        recreate(admin_url, scratch_url)
    env = {**os.environ, "DATABASE_URL": scratch_url}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ["DATABASE_URL"] = scratch_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    try:
        started = time.perf_counter()
        if args.reuse:
            from core.models import User
            from customers.models import Enterprise

            user = User.objects.get(username="noc_bench")
            enterprises = list(Enterprise.objects.order_by("pk")[:10])
        else:
            user, enterprises = _load(args)
            print(f"loaded {args.tickets} open tickets in {time.perf_counter() - started:.1f} s")
        results = _measure(user, enterprises, args.requests)
        print("| 场景 | 请求数 | p50 ms | p95 ms | max ms | SQL p50 ms | SQL 查询数 |")
        print("|---|---:|---:|---:|---:|---:|---|")
        for label, timings, queries, sql_ms in results:
            ordered = sorted(timings)
            p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
            print(
                f"| {label} | {len(timings)} | {statistics.median(timings):.1f} | {p95:.1f} "
                f"| {max(timings):.1f} | {statistics.median(sql_ms):.1f} "
                f"| {', '.join(map(str, sorted(queries)))} |"
            )
        everything = sorted(t for _label, timings, _q, _s in results for t in timings)
        p95 = everything[max(0, round(0.95 * len(everything)) - 1)]
        print(
            f"all requests: n={len(everything)} p50={statistics.median(everything):.1f} ms "
            f"p95={p95:.1f} ms"
        )
    finally:
        from django.db import connections

        connections.close_all()
        if not (args.keep or args.reuse):
            recreate(admin_url, scratch_url, drop_only=True)


if __name__ == "__main__":
    main()
