import random
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from crm.core import scale


class Command(BaseCommand):
    help = (
        "Fills a Postgres database with a generated data set for the benchmark: "
        "--customers 100000 gives 50 users, ~200k contacts, ~1M follow-ups and the rest in "
        "proportion. Repeatable with --seed; a second run replaces the generated data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=scale.BASE_CUSTOMERS)
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same data set.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though the database holds data this command did not generate.",
        )

    def handle(
        self, *args: object, customers: int, seed: int, force: bool, **options: object
    ) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("seed_scale needs Postgres (it loads with COPY): set DATABASE_URL.")
        if customers < 1:
            raise CommandError("--customers must be at least 1.")
        steps = scale.steps()
        foreign = [item.name for item in steps if item.foreign()]
        if foreign and not force:
            raise CommandError(
                "This database holds data seed_scale did not generate ("
                + ", ".join(foreign)
                + "). Use an empty database, or --force to add the data set beside it."
            )
        started = time.monotonic()
        context = scale.ScaleContext(
            customers=customers,
            seed=seed,
            # Whole days, so the same seed gives the same data on the same day; the start of the
            # day, so that nothing generated lies in the future of a run later that day.
            now=timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0),
            random=random.Random(seed),
            log=lambda message: self.stdout.write(f"  {message}"),
        )
        for item in reversed(steps):
            with transaction.atomic():
                item.clear()
        for item in steps:
            began = time.monotonic()
            # Each step draws from its own generator, so adding a step leaves the others' data
            # unchanged.
            context.random = random.Random(f"{seed}:{item.name}")
            with transaction.atomic():
                item.run(context)
            self.stdout.write(f"scale data: {item.name} ({time.monotonic() - began:.1f} s)")
        if not connection.in_atomic_block:  # VACUUM cannot run in a transaction (tests)
            # Statistics and the visibility map, so counts can be answered from indexes.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE)")
        self.stdout.write(
            self.style.SUCCESS(
                f"Scale data set for {customers} customers in {time.monotonic() - started:.0f} s."
            )
        )
