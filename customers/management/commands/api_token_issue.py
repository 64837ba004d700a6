"""`manage.py api_token_issue`: issue an API token from the command line (printed once)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.models import User
from customers import services
from customers.models import Enterprise


class Command(BaseCommand):
    help = "Issue an API token for a user in a role (and an enterprise); prints it once."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="username the token acts as")
        parser.add_argument("--role", default="", help="role (group) name; empty for superusers")
        parser.add_argument("--enterprise", default="", help="enterprise id or credit code")
        parser.add_argument("--name", required=True, help="what the token is for")

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']}")
        enterprise_id = None
        if options["enterprise"]:
            key = options["enterprise"]
            enterprise = Enterprise.objects.filter(
                **({"pk": int(key)} if key.isdigit() else {"credit_code": key.upper()})
            ).first()
            if enterprise is None:
                raise CommandError(f"no enterprise {key}")
            enterprise_id = enterprise.pk
        try:
            _token, secret = services.api_token_issue(
                user=user,
                role=options["role"],
                name=options["name"],
                enterprise_id=enterprise_id,
                by=None,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"token (shown once): {secret}")
