"""Fails when the zh_Hans catalog misses, or fuzzes, any string of the code and templates."""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

IGNORE = [".venv/*", "node_modules/*", "var/*", "tests/*", "staticfiles/*"]


class Command(BaseCommand):
    help = "Re-extracts messages and fails if the zh_Hans catalog is incomplete or fuzzy."

    def handle(self, *args: object, **options: object) -> None:
        catalog = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
        if not catalog.exists():
            raise CommandError(f"No catalog at {catalog}: run `make messages`.")
        before = catalog.read_text(encoding="utf-8")
        call_command(
            "makemessages",
            locale=["zh_Hans"],
            ignore_patterns=IGNORE,
            no_obsolete=True,
            verbosity=0,
        )
        entries = polib.pofile(str(catalog))
        missing = [entry.msgid for entry in entries.untranslated_entries()]
        fuzzy = [entry.msgid for entry in entries.fuzzy_entries()]
        if not missing and not fuzzy:
            # Complete: keep the committed file as it was (makemessages rewrites its dates).
            catalog.write_text(before, encoding="utf-8")
            self.stdout.write(
                self.style.SUCCESS(f"zh_Hans catalog complete: {len(entries)} strings.")
            )
            return
        lines = [f"  untranslated: {msgid!r}" for msgid in missing]
        lines += [f"  fuzzy: {msgid!r}" for msgid in fuzzy]
        raise CommandError(
            "The zh_Hans catalog is incomplete (the file now lists the new strings; translate "
            "them and run again):\n" + "\n".join(lines)
        )
