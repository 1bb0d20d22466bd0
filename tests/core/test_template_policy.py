"""The templates keep to the Content Security Policy: no inline script, no inline event handler,
no htmx hx-on (it evaluates code). Data for scripts goes in json_script blocks or data-*."""

import re
from pathlib import Path

from django.conf import settings

TEMPLATES = sorted(Path(settings.BASE_DIR, "templates").rglob("*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(ld\+)?json)[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
HX_ON = re.compile(r"\shx-on[:\-]", re.I)


def test_there_are_templates_to_check():
    assert len(TEMPLATES) > 20


def test_no_template_runs_inline_code():
    offences = [
        f"{path.relative_to(settings.BASE_DIR)}:{number}: {line.strip()}"
        for path in TEMPLATES
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if INLINE_SCRIPT.search(line) or HANDLER.search(line) or HX_ON.search(line)
    ]
    assert not offences, "\n".join(offences)
