"""`manage.py seed_demo`: create the demo data of every app, idempotently.

Each app that has demo data names its seeding function in its AppConfig
(`demo_seed = "app.demo.seed"`); they run in INSTALLED_APPS order, so an app's data
can rely on the apps below it. Each returns lines to print (e.g. the demo logins).
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = "Create or top up the demo data (enterprises, users, catalog, …); safe to run again."

    def handle(self, *args, **options):
        for config in apps.get_app_configs():
            dotted = getattr(config, "demo_seed", None)
            if not dotted:
                continue
            lines = import_string(dotted)()
            self.stdout.write(self.style.MIGRATE_HEADING(f"[{config.verbose_name}]"))
            for line in lines:
                self.stdout.write(line)
