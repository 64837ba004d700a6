"""Benchmark: a portal bulk send from an uploaded file, preview then confirm.

    python benchmarks/portal_bulk_send.py --rows 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mas_portal_bench \\
        python benchmarks/portal_bulk_send.py --rows 100000

It uses a scratch database (a fresh SQLite file under var/ unless DATABASE_URL is set;
that database is migrated and seeded, so give it a throwaway one), runs `seed_demo`,
registers `--rows` numbers for the demo enterprise (郑州豫信物流), writes a CSV of those
numbers plus 1 % malformed, 1 % unregistered and 1 % duplicate rows, and times what the
portal does: `portal.selectors.bulk_preview` (read and check every row against the
registered list, the page the user sees before confirming) and the confirmed
`smsgw.services.sms_enqueue_campaign` (one outbox row per accepted number).
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    scratch = ROOT / "var" / "portal_bench.sqlite3"
    if "DATABASE_URL" not in os.environ:
        scratch.parent.mkdir(exist_ok=True)
        scratch.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", stdout=quiet)

    from customers.models import Enterprise, RegisteredRecipient
    from fulfillment.models import Subscription
    from portal.selectors import bulk_preview
    from smsgw.models import Message
    from smsgw.services import sms_enqueue_campaign

    enterprise = Enterprise.objects.get(name="郑州豫信物流有限公司")
    subscription = Subscription.objects.filter(enterprise=enterprise, state="active").first()
    numbers = [f"15{index:09d}" for index in range(args.rows)]
    started = time.perf_counter()
    RegisteredRecipient.objects.bulk_create(
        [
            RegisteredRecipient(
                enterprise=enterprise,
                msisdn=number,
                consent_source="劳动合同/员工登记",
                consented_at=enterprise.created_at,
            )
            for number in numbers
        ],
        batch_size=5000,
    )
    setup = time.perf_counter() - started

    bad = max(1, args.rows // 100)
    lines = ["手机号码", *numbers]
    lines += [f"12{index:05d}" for index in range(bad)]  # malformed
    lines += [f"18{index:09d}" for index in range(bad)]  # not registered
    lines += numbers[:bad]  # duplicates
    path = ROOT / "var" / "portal_bench.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    started = time.perf_counter()
    preview = bulk_preview(enterprise, path)
    preview_seconds = time.perf_counter() - started
    assert len(preview.accepted) == args.rows and len(preview.refused) == 3 * bad

    started = time.perf_counter()
    request = sms_enqueue_campaign(
        subscription_id=subscription.pk,
        text="周五下午三点全体员工大会",
        recipients=preview.accepted,
    )
    enqueue_seconds = time.perf_counter() - started
    assert Message.objects.filter(send_request=request).count() == args.rows
    path.unlink()

    vendor = django.db.connection.vendor
    print(
        f"| {vendor} | {len(lines) - 1:,} rows | {preview_seconds:.2f} s "
        f"({(len(lines) - 1) / preview_seconds:,.0f} rows/s) | {enqueue_seconds:.2f} s "
        f"({args.rows / enqueue_seconds:,.0f} numbers/s) | setup {setup:.1f} s |"
    )


if __name__ == "__main__":
    main()
