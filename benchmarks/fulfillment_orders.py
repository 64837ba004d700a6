"""Benchmark: add orders from submission to an active subscription, with a real Celery worker.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mas_ful \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/12 \\
    python benchmarks/fulfillment_orders.py --orders 1000

It creates a scratch database next to DATABASE_URL's (`<name>_bench`, dropped at the end
unless --keep), migrates it, creates enterprises, a launched offering and enough codes and
ports, purges the broker's queue and starts `celery worker` as a subprocess against it.
Then it submits the orders through `fulfillment.services.order_create` (eligibility runs
in this process; provisioning runs in the worker: order_start, then the four steps of
each order back to back in one task) and waits until every order is final. It reports the
submission rate, orders/s from the first submission to the last activation, and the
per-step timings recorded on the steps (time in the step, and wait in the queue).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from _cluster import recreate, scratch_database

ROOT = Path(__file__).resolve().parent.parent


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4, help="worker processes")
    parser.add_argument("--enterprises", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--submit-first",
        action="store_true",
        help="submit every order before starting the worker, to time provisioning alone",
    )
    return parser.parse_args()


def _fixtures(count: int, enterprises: int):
    """Enterprises ready to order, a launched offering, and codes and ports for everyone."""
    from decimal import Decimal

    from django.contrib.auth.models import Group

    from core import clock
    from core.models import User
    from customers import services as customers
    from customers.credit_code import make_credit_code
    from fulfillment import services as fulfillment
    from product_lifecycle import services as catalog
    from product_lifecycle.models import ProductOffering

    manager = User.objects.create_user("bench_manager", email="bench@example.cn", is_staff=True)
    manager.groups.add(Group.objects.get(name="customer_manager"))
    ready = []
    for n in range(enterprises):
        enterprise = customers.enterprise_create(
            by=manager,
            name=f"压测企业{n:04d}有限公司",
            credit_code=make_credit_code(region="410100", serial=70000000 + n),
            brands=f"压测{n:04d}",
            city="郑州市" if n % 3 else "洛阳市",
            account_manager=manager,
        )
        customers.contact_save(
            enterprise_id=enterprise.pk,
            by=manager,
            name="联系人",
            mobile=f"1380371{n:04d}",
            is_primary=True,
        )
        customers.enterprise_activate(enterprise_id=enterprise.pk, by=manager)
        signature = customers.signature_submit(
            enterprise_id=enterprise.pk, text=f"【压测{n:04d}】", by=manager
        )
        customers.signature_approve(signature_id=signature.pk, by=manager, evidence="压测")
        ready.append(enterprise)

    offering = ProductOffering.objects.create(
        name="集团短信MAS 压测版", cmpp_versions=["2.0", "3.0"], licensed_rate=100, max_links=2
    )
    start = clock.now()
    for component, amount, quantity in (
        ("port_fee", "200.00", None),
        ("package_fee", "1000.00", 50_000),
        ("overage", "0.04", None),
    ):
        catalog.offering_price_revise(
            offering_id=offering.pk,
            component=component,
            amount=Decimal(amount),
            included_quantity=quantity,
            valid_from=start,
        )
    for step in (catalog.offering_design, catalog.offering_test, catalog.offering_launch):
        step(offering_id=offering.pk, by=None)

    fulfillment.service_code_block_add(
        first_code="106903700000",
        last_code=f"{106903700000 + count + 99}",
        extension_digits=6,
        province="41",
        by=None,
    )
    per_server = 250
    for n in range((count + 100) // per_server + 1):
        fulfillment.mas_server_create(
            name=f"压测MAS-{n:02d}",
            location="郑州市" if n % 2 else "洛阳市",
            capacity=per_server,
            ports=per_server,
            by=None,
        )
    return manager, ready, offering


def _start_worker(env: dict, concurrency: int) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--loglevel=WARNING",
        f"--concurrency={concurrency}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        f"--hostname=bench-{os.getpid()}@%h",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env)


def _wait_for_worker(app, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the Celery worker exited during start-up")
        if app.control.ping(timeout=1.0):
            return
    raise SystemExit("the Celery worker did not answer a ping within a minute")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    args = _parse()
    database_url = os.environ.get("DATABASE_URL", "")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (postgres://…)")
    if not broker.startswith(("redis://", "amqp://")):
        raise SystemExit("set CELERY_BROKER_URL to a real broker (redis://…)")
    admin_url, scratch_url = scratch_database(database_url, "bench")
    recreate(admin_url, scratch_url)

    os.environ.update(
        DATABASE_URL=scratch_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        CELERY_TASK_ALWAYS_EAGER="0",
        DJANGO_DEBUG=os.environ.get("DJANGO_DEBUG", "0"),
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from config.celery import app
    from fulfillment import services
    from fulfillment.models import Order, ProvisioningStep, Subscription

    worker = None
    try:
        call_command("migrate", verbosity=0)
        print(
            f"scratch database {urlsplit(scratch_url).path.lstrip('/')} migrated; "
            f"creating {args.enterprises} enterprises, {args.orders + 100} codes and ports…"
        )
        manager, enterprises, offering = _fixtures(args.orders, args.enterprises)
        app.control.purge()

        def start_worker():
            process = _start_worker(dict(os.environ), args.concurrency)
            _wait_for_worker(app, process)
            print(f"worker up ({args.concurrency} processes)")
            return process

        if not args.submit_first:
            worker = start_worker()
        print(f"submitting {args.orders} add orders")

        from core import clock

        ids = []
        started = time.perf_counter()
        for n in range(args.orders):
            order = services.order_create(
                by=manager,
                enterprise=enterprises[n % len(enterprises)].pk,
                requested_start_at=clock.now(),
                channel=Order.Channel.SYSTEM,
                items=[
                    services.ItemRequest(
                        action="add",
                        offering=offering.pk,
                        cmpp_version="3.0",
                        interface_type="cmpp",
                        access_ip=f"10.{n // 250}.{n % 250}.1",
                        contact_name="联系人",
                    )
                ],
            )
            if order.state != Order.State.ACKNOWLEDGED:
                raise SystemExit(f"order {n} was not acknowledged: {order.rejection_reasons}")
            ids.append(order.pk)
        submitted = time.perf_counter()
        if args.submit_first:
            worker = start_worker()
        provisioning_started = time.perf_counter() if args.submit_first else started

        final = [*Order.FINAL_STATES]
        done = 0
        while done < len(ids):
            if time.perf_counter() - started > args.timeout:
                raise SystemExit(f"timed out with {done} of {len(ids)} orders final")
            if worker.poll() is not None:
                raise SystemExit("the Celery worker died")
            time.sleep(0.25)
            done = Order.objects.filter(pk__in=ids, state__in=final).count()
        finished = time.perf_counter()

        orders = Order.objects.filter(pk__in=ids)
        completed = orders.filter(state=Order.State.COMPLETED).count()
        live = Subscription.objects.filter(order__in=ids, state="active")
        assert live.values("service_code").distinct().count() == live.count()
        assert live.values("port").distinct().count() == live.count()

        steps = ProvisioningStep.objects.filter(item__order__in=ids, state="succeeded")
        rows = {}
        for kind, duration, queued, first in steps.values_list(
            "kind", "duration_ms", "queued_at", "started_at"
        ):
            row = rows.setdefault(kind, {"run": [], "wait": []})
            row["run"].append(duration)
            row["wait"].append((first - queued).total_seconds() * 1000)
        latencies = [
            (o.completed_at - o.order_date).total_seconds() for o in orders if o.completed_at
        ]

        wall = finished - started
        print()
        print(
            f"PostgreSQL {connection.pg_version // 10000}, broker {urlsplit(broker).scheme}, "
            f"worker processes {args.concurrency}, CPUs {os.cpu_count()}"
        )
        print(
            f"orders submitted: {len(ids)} in {submitted - started:.1f} s "
            f"({len(ids) / (submitted - started):.0f}/s, eligibility included)"
        )
        print(
            f"completed: {completed} of {len(ids)}; first submission to last activation "
            f"{wall:.1f} s = {len(ids) / wall:.1f} orders/s"
        )
        if args.submit_first:
            drain = finished - provisioning_started
            print(
                f"provisioning alone (worker started after the last submission): "
                f"{drain:.1f} s = {len(ids) / drain:.1f} orders/s"
            )
        print(
            f"order latency (submitted → active): median {statistics.median(latencies):.1f} s, "
            f"p95 {_percentile(latencies, 0.95):.1f} s"
        )
        print()
        header = ("step", "run mean", "run p50", "run p95", "run max", "queue p50", "queue p95")
        print("".join(f"{h:>12}" if n else f"{h:<16}" for n, h in enumerate(header)))
        for kind in ("reserve_code", "reserve_port", "create_account", "activate"):
            row = rows.get(kind)
            if not row:
                continue
            figures = (
                statistics.mean(row["run"]),
                _percentile(row["run"], 0.5),
                _percentile(row["run"], 0.95),
                max(row["run"]),
                _percentile(row["wait"], 0.5),
                _percentile(row["wait"], 0.95),
            )
            print(f"{kind:<16}" + "".join(f"{value:>10.0f}ms" for value in figures))
        slowest = max(rows, key=lambda kind: statistics.mean(rows[kind]["run"]))
        print()
        print(
            f"slowest step (mean time in the step): {slowest} "
            f"{statistics.mean(rows[slowest]['run']):.1f} ms"
        )
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate(admin_url, scratch_url, drop_only=True)


if __name__ == "__main__":
    main()
