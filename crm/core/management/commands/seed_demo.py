from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from crm.core import demo


class Command(BaseCommand):
    help = "Loads demo data: teams, users of every role and sample records (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (never on a production database).",
        )

    def handle(self, *args: object, force: bool = False, **options: object) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with a known password; it refuses to run with DEBUG off. "
                "Use --force if this really is a demo installation."
            )
        for step in demo.steps():
            with transaction.atomic():
                step.run()
            self.stdout.write(f"demo data: {step.name}")
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
