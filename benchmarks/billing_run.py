"""Benchmark: a quarterly billing run for 10,000 subscriptions, and PDF rendering.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mas_billing \\
    python benchmarks/billing_run.py --subscriptions 10000 --pdfs 200

It creates a scratch database next to DATABASE_URL's (`<name>_bench`, dropped at the end
unless --keep), migrates it and bulk-creates the data a run meets: enterprises (five
subscriptions each), one priced offering, service codes, MAS ports, the add orders and
live subscriptions activated before the month to rate, and a month of usage per
subscription (one smsgw DailyUsage row per day, some of them beyond the allowance). It
then times `billing.services.billing_run_execute` for the next quarter (rating the
quarter's port and package fees, the closed month's overage, one invoice per account
numbered gaplessly, totals) in this process, and the rendering of `--pdfs` invoice PDFs
(`billing.pdf.invoice_pdf`, STSong-Light). Targets: run under 60 s; at least 50 PDFs/s.
"""

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

from _cluster import recreate, scratch_database

ROOT = Path(__file__).resolve().parent.parent


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--per-enterprise", type=int, default=5)
    parser.add_argument("--pdfs", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--profile", action="store_true", help="print the run's top functions")
    return parser.parse_args()


def _populate(count: int, per_enterprise: int, month: dt.date) -> None:
    """Bulk rows: enterprises, offering, codes, ports, orders, subscriptions, usage."""
    from decimal import Decimal

    from django.utils import timezone

    from customers.models import Enterprise
    from fulfillment.models import (
        MasPort,
        MasServer,
        Order,
        ServiceCode,
        ServiceCodeBlock,
        Subscription,
    )
    from product_lifecycle.models import ProductOffering
    from smsgw.models import DailyUsage

    tz = timezone.get_default_timezone()
    activated = dt.datetime.combine(month - dt.timedelta(days=40), dt.time(9), tzinfo=tz)
    enterprises = Enterprise.objects.bulk_create(
        [
            Enterprise(name=f"基准测试企业{i:05d}有限公司", status="active", activated_at=activated)
            for i in range(count // per_enterprise + 1)
        ],
        batch_size=2000,
    )
    offering = ProductOffering.objects.create(name="基准套餐")
    block = ServiceCodeBlock.objects.create(
        first_code="106903000000",
        last_code=f"1069030{count:05d}",
        extension_digits=4,
        province="41",
    )
    codes = ServiceCode.objects.bulk_create(
        [
            ServiceCode(
                code=f"1069030{i:05d}",
                extension_digits=4,
                province="41",
                block=block,
                state="assigned",
            )
            for i in range(count)
        ],
        batch_size=5000,
    )
    servers = MasServer.objects.bulk_create(
        [
            MasServer(name=f"基准MAS-{i:03d}", location="郑州市", capacity=200)
            for i in range(count // 100 + 1)
        ]
    )
    ports = MasPort.objects.bulk_create(
        [
            MasPort(server=servers[i // 100], number=i % 100 + 1, state="assigned")
            for i in range(count)
        ],
        batch_size=5000,
    )
    orders = Order.objects.bulk_create(
        [Order(enterprise=e, state="completed") for e in enterprises], batch_size=2000
    )
    subscriptions = Subscription.objects.bulk_create(
        [
            Subscription(
                enterprise=enterprises[i // per_enterprise],
                offering=offering,
                order=orders[i // per_enterprise],
                service_code=codes[i],
                port=ports[i],
                cmpp_version="3.0",
                licensed_rate=100,
                max_links=2,
                interface_type="cmpp",
                access_ip=f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
                activated_at=activated,
                port_fee=Decimal("100.00"),
                package_fee=Decimal("300.00"),
                included_messages=10_000,
                overage_price=Decimal("0.05"),
                tariff_at=activated,
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    days = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - month
    rows = []
    for index, subscription in enumerate(subscriptions):
        daily = 300 + (index % 7) * 40  # 9,000 to 16,200 a month: some exceed 10,000
        for offset in range(days.days):
            rows.append(
                DailyUsage(
                    subscription=subscription,
                    day=month + dt.timedelta(days=offset),
                    submitted_segments=daily,
                    delivered_segments=daily,
                )
            )
        if len(rows) >= 20_000:
            DailyUsage.objects.bulk_create(rows)
            rows = []
    DailyUsage.objects.bulk_create(rows)


def main() -> None:
    args = _parse()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (postgres://…)")
    admin_url, scratch_url = scratch_database(database_url, "bench")
    recreate(admin_url, scratch_url)
    os.environ.update(
        DATABASE_URL=scratch_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        CELERY_TASK_ALWAYS_EAGER="1",
        DJANGO_DEBUG="0",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from billing import rating, services, tasks
    from billing.models import BillingRun, Charge, Invoice
    from billing.pdf import invoice_pdf
    from core import clock

    try:
        call_command("migrate", verbosity=0)
        # In production each issued invoice's PDF is rendered by a worker after commit;
        # here the run is timed alone and the PDFs are timed below.
        tasks.invoice_pdf_render_task.delay = lambda *a, **k: None
        # Issue day: 15 days before the quarter, after a month of usage closed.
        quarter = dt.date(2027, 1, 1)
        month = dt.date(2026, 11, 1)
        clock.freeze(dt.datetime(2026, 12, 17, 4, 0, tzinfo=dt.UTC))
        started = time.perf_counter()
        _populate(args.subscriptions, args.per_enterprise, month)
        print(
            f"populated {args.subscriptions} subscriptions and a month of usage "
            f"in {time.perf_counter() - started:.1f} s"
        )

        run = BillingRun.objects.create(
            period_start=quarter, period_end=rating.quarter_end(quarter)
        )
        started = time.perf_counter()
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            run = profiler.runcall(services.billing_run_execute, run_id=run.pk, progress_every=50)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        else:
            run = services.billing_run_execute(run_id=run.pk, progress_every=50)
        elapsed = time.perf_counter() - started
        charges = Charge.objects.count()
        overage = Charge.objects.filter(kind="overage").count()
        print(
            f"billing run: {run.total_accounts} accounts, {run.invoices_created} invoices, "
            f"{charges} charges ({overage} overage), ¥{run.amount_total}, "
            f"{len(run.errors)} errors in {elapsed:.1f} s "
            f"({args.subscriptions / elapsed:.0f} subscriptions/s)"
        )
        started = time.perf_counter()
        again = BillingRun.objects.create(
            period_start=quarter, period_end=rating.quarter_end(quarter)
        )
        again = services.billing_run_execute(run_id=again.pk, progress_every=50)
        print(
            f"restart of the same quarter: {again.invoices_created} new invoices "
            f"in {time.perf_counter() - started:.1f} s"
        )

        invoices = list(
            Invoice.objects.order_by("id").select_related("account__enterprise")[: args.pdfs]
        )
        started = time.perf_counter()
        total_bytes = 0
        for invoice in invoices:
            total_bytes += len(invoice_pdf(invoice))
        elapsed = time.perf_counter() - started
        print(
            f"PDF: {len(invoices)} invoices in {elapsed:.2f} s = {len(invoices) / elapsed:.0f}/s "
            f"(average {total_bytes // max(1, len(invoices))} bytes)"
        )
    finally:
        clock.unfreeze()
        connections.close_all()
        if not args.keep:
            recreate(admin_url, scratch_url, drop_only=True)


if __name__ == "__main__":
    main()
