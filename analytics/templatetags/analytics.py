from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext as _

from crm.core.templatetags.crm import cny

register = template.Library()


@register.filter
def metric(value: Any, unit: str | None = "count") -> str:
    """{{ value|metric:"cny" }}: a dashboard figure in its unit; an empty one as a dash."""
    if value is None or value == "":
        return "—"
    if not isinstance(value, int | float | Decimal):
        return str(value)
    if unit == "cny":
        return cny(value)
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "hours":
        return _("%(value)s h") % {"value": f"{value:.1f}"}
    if unit == "days":
        return _("%(value)s d") % {"value": f"{value:.1f}"}
    if unit == "score":
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return intcomma(value)
