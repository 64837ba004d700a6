"""Run the readiness checks of a process role; exit 0 when all pass (an exec probe)."""

import json

from django.core.management.base import BaseCommand, CommandError

from core.health import run_checks


class Command(BaseCommand):
    help = "Run the readiness checks registered for a role (web, worker, sender)."

    def add_arguments(self, parser):
        parser.add_argument("--role", default="web")
        parser.add_argument("--only", action="append", help="run only this check (repeat)")

    def handle(self, *args, role="web", only=None, **options):
        healthy, results = run_checks(role, only=only)
        self.stdout.write(json.dumps({"role": role, "ok": healthy, "checks": results}))
        if not healthy:
            raise CommandError("not ready")
