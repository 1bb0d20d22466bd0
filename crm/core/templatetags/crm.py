import datetime
from decimal import Decimal

from django import template
from django.forms import BoundField
from django.utils.translation import get_language

from crm.core import links, phones

register = template.Library()


@register.filter
def mask_phone(value: str | None) -> str:
    """{{ contact.phone|mask_phone }} → 138****5678"""
    return phones.mask_phone(value)


@register.filter
def mask_address(value: str | None) -> str:
    return phones.mask_address(value)


@register.filter
def cny(value: Decimal | int | float | None) -> str:
    """An amount in yuan: ¥1,234.50; in Chinese, ¥123.4万 from ten thousand yuan up."""
    if value is None or value == "":
        return ""
    amount = Decimal(value)
    if abs(amount) >= 10000 and (get_language() or "").startswith("zh"):
        return f"¥{amount / 10000:,.1f}万"
    return f"¥{amount:,.2f}"


@register.inclusion_tag("components/breadcrumbs.html")
def breadcrumbs(*parts: str) -> dict[str, object]:
    """{% breadcrumbs label url label url current_label %}: pairs of links, then the page."""
    links = [(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
    current = parts[-1] if len(parts) % 2 else ""
    return {"links": links, "current": current}


@register.simple_tag
def record_url(name: str, pk: int) -> str:
    """{% record_url "opportunities:move" card.pk %}: {% url %} for a row of a long list."""
    return links.record_url(name, pk)


@register.filter
def add_class(field: BoundField, css: str) -> str:
    """{{ form.field|add_class:"form-select form-select-sm" }} for hand-laid-out forms."""
    existing = field.field.widget.attrs.get("class", "")
    return field.as_widget(attrs={"class": f"{existing} {css}".strip()})


@register.filter
def duration_minutes(value: datetime.timedelta | None) -> int:
    """A duration in whole minutes, rounded up ("try again in 15 minutes")."""
    if value is None:
        return 0
    return -int(-value.total_seconds() // 60)
