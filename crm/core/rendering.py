"""The form renderer: Django's, with its plainest widgets written in Python.

Django renders every widget through templates: an ``<input>`` through two (its type's, which
includes ``input.html``, which includes ``attrs.html``), every ``<option>`` of a ``<select>``
through two more. A filter bar of a dozen drop-downs holds a few hundred options (owners, teams,
dictionaries), and rendering them was a third of the customer list's server time; a detail page
with its small forms spends ~0.1 ms of template work on each field. ``FormRenderer`` writes the
same markup for Django's own select, input and textarea templates directly; any other template,
including a widget that names its own, renders as before.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.http import HttpRequest
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"
TEXTAREA = "django/forms/widgets/textarea.html"
# The input types whose template is only ``{% include "django/forms/widgets/input.html" %}``.
INPUTS = {
    f"django/forms/widgets/{name}.html"
    for name in (
        *("input", "text", "number", "email", "url", "password", "hidden", "search", "tel"),
        *("date", "datetime", "time", "color", "checkbox", "file"),
    )
}


def _attrs(attrs: dict[str, Any]) -> str:
    """As ``django/forms/widgets/attrs.html``: ``True`` writes the bare name, ``False`` none."""
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _options(options: list[dict[str, Any]]) -> str:
    return "".join(
        f'\n  <option value="{escape(option["value"])}"{_attrs(option["attrs"])}>'
        f"{escape(option['label'])}</option>"
        for option in options
    )


def render_select(widget: dict[str, Any]) -> SafeString | None:
    """The select's markup, or None when an option has a template of its own."""
    groups = widget["optgroups"]
    if any(
        option.get("template_name", OPTION) != OPTION for _n, opts, _i in groups for option in opts
    ):
        return None
    body = "".join(
        f'\n  <optgroup label="{escape(name)}">{_options(options)}\n  </optgroup>'
        if name
        else _options(options)
        for name, options, _index in groups
    )
    html = f'<select name="{escape(widget["name"])}"{_attrs(widget["attrs"])}>{body}\n</select>'
    return mark_safe(html)  # noqa: S308 - every name, value and label above is escaped


def render_input(widget: dict[str, Any]) -> SafeString:
    value = "" if widget["value"] is None else f' value="{escape(widget["value"])}"'
    html = (
        f'<input type="{conditional_escape(widget["type"])}" '
        f'name="{conditional_escape(widget["name"])}"{value}{_attrs(widget["attrs"])}>'
    )
    return mark_safe(html)  # noqa: S308 - escaped as the template escapes


def render_textarea(widget: dict[str, Any]) -> SafeString:
    text = conditional_escape(widget["value"]) if widget["value"] else ""
    html = (
        f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n'
        f"{text}</textarea>"
    )
    return mark_safe(html)  # noqa: S308 - escaped as the template escapes


class FormRenderer(DjangoTemplates):
    def render(
        self, template_name: str, context: dict[str, Any], request: HttpRequest | None = None
    ) -> str:
        if template_name in INPUTS:
            return render_input(context["widget"])
        if template_name == TEXTAREA:
            return render_textarea(context["widget"])
        if template_name == SELECT:
            html = render_select(context["widget"])
            if html is not None:
                return html
        return super().render(template_name, context, request=request)
