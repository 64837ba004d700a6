"""Run the retention policies now, or (--dry-run) show how many rows each would handle."""

from django.core.management.base import BaseCommand

from core import retention


class Command(BaseCommand):
    help = "Purge or pseudonymise personal data past its retention period (core.retention)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only count the due rows")
        parser.add_argument("--policy", action="append", help="run only this policy (repeat)")
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args, dry_run=False, policy=None, batch_size=None, **options):
        selected = [p for p in retention.policies() if not policy or p.name in policy]
        if policy and len(selected) != len(set(policy)):
            known = ", ".join(p.name for p in retention.policies())
            self.stderr.write(f"unknown policy; registered: {known}")
            return
        for item in selected:
            days = item.retention_days()
            if dry_run:
                count = item.due().count()
                self.stdout.write(f"{item.name}: {count} rows older than {days} days, due")
            else:
                handled = retention.run_policy(item, batch_size=batch_size)
                self.stdout.write(f"{item.name}: {handled} rows older than {days} days done")
