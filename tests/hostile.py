"""Hostile form posts for hypothesis: a valid post with one to three fields replaced by what a
careless or malicious client sends (arbitrary Unicode, NUL bytes, huge strings, numbers out of
range, impossible dates, ids of nothing, lists where one value is expected) or left out.

Starting from a valid post keeps most examples past the other fields' validation, so the odd
value reaches the service and the database, where a 500 would hide; a few examples replace
everything. ``explained(response)`` is what the user must get instead: a form error shown on
the page, an error message after a redirect, or a 4xx.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib.messages import constants, get_messages
from django.utils.html import escape
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

HOSTILE = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ABSENT = "<absent>"
# Naive on purpose: a form reads what the user typed as a time in the company's zone.
FIRST_MOMENT = datetime.datetime(1900, 1, 1)  # noqa: DTZ001
LAST_MOMENT = datetime.datetime(2999, 12, 31)  # noqa: DTZ001  # a field left out of the post altogether

huge_text = st.builds(
    lambda chunk, times: chunk * times, st.text(min_size=1, max_size=4), st.integers(500, 20_000)
)
JUNK = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "-1",
    "0",
    "9" * 40,
    "1e400",
    "-1e400",
    "NaN",
    "Infinity",
    "0.0000001",
    "1,000.50",
    "２０２６",
    "2026-02-30",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-13-01 25:61",
    "0001-01-01 00:00",
    "9999-12-31 23:59",
    "null",
    "[]",
    '{"a": 1}',
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "🦄" * 3,
    "\u202etxt.exe",
    "e\u0301" * 10,
]
junk = st.one_of(
    st.text(max_size=60),
    huge_text,
    st.sampled_from(JUNK),
    st.integers(-(2**70), 2**70).map(str),
)


def _dates() -> st.SearchStrategy[datetime.date]:
    return st.one_of(
        st.dates(datetime.date(1900, 1, 1), datetime.date(2999, 12, 31)),
        st.sampled_from(
            [
                datetime.date.min,
                datetime.date.max,
                datetime.date(1899, 12, 31),
                datetime.date(3000, 1, 1),
                datetime.date(2024, 2, 29),
            ]
        ),
    )


def _texts(limit: int | None) -> st.SearchStrategy[str]:
    limit = limit or 300
    return st.one_of(
        st.text(max_size=min(limit, 80)),
        st.text(min_size=limit, max_size=limit + 1),  # the length limit, and one past it
        huge_text,
    )


def extreme(field: forms.Field) -> st.SearchStrategy[Any]:
    """Values of the field's own kind, at and past their limits."""
    if isinstance(field, forms.ModelMultipleChoiceField):
        return st.lists(st.sampled_from([*_ids(field), "0", "-1", "2147483648", "x"]), max_size=4)
    if isinstance(field, forms.ModelChoiceField):
        return st.sampled_from([*_ids(field), "", "0", "-1", "9223372036854775808", "1.5", "x"])
    if isinstance(field, forms.ChoiceField):
        keys = [str(key) for key, _label in _flat(field.choices)]
        return st.one_of(st.sampled_from([*keys, "nope"]), st.text(max_size=20))
    if isinstance(field, forms.BooleanField):
        return st.sampled_from(["on", "", "false", "0", "1", "yes"])
    if isinstance(field, forms.DecimalField):
        return st.one_of(
            st.decimals(-(10**6), 10**9, places=2).map(str),
            st.decimals(allow_nan=False, allow_infinity=False).map(str),
            st.sampled_from(["-0.01", "1e18", "99999999999999999999999.9999", "-1e-30"]),
        )
    if isinstance(field, forms.IntegerField):
        return st.one_of(
            st.integers(-10, 10**6),
            st.sampled_from([-1, 0, 2**31, 2**63, 2**64, -(2**63) - 1]),
        ).map(str)
    if isinstance(field, forms.DateTimeField):
        return st.one_of(
            st.datetimes(FIRST_MOMENT, LAST_MOMENT).map(
                lambda moment: moment.strftime("%Y-%m-%d %H:%M")
            ),
            st.sampled_from(["0001-01-01 00:00", "9999-12-31 23:59", "2026-03-01T08:00"]),
        )
    if isinstance(field, forms.DateField):
        return _dates().map(lambda day: f"{day.year:04d}-{day.month:02d}-{day.day:02d}")
    if isinstance(field, forms.TimeField):
        return st.times().map(lambda moment: moment.strftime("%H:%M:%S"))
    if isinstance(field, forms.EmailField):
        return st.one_of(
            st.emails(),
            st.sampled_from(["a@b", "用户@例子.中国", "x" * 300 + "@example.cn", "@", "a@@b.cn"]),
        )
    if isinstance(field, forms.CharField):
        return _texts(field.max_length)
    return junk


def _ids(field: forms.ModelChoiceField, count: int = 3) -> list[str]:
    """The first few choices' ids, always ``count`` of them (padded with "0"): hypothesis needs
    the same shape of strategy from one example to the next while the table grows."""
    ids = [str(pk) for pk in field.queryset.order_by("pk").values_list("pk", flat=True)[:count]]
    return ids + ["0"] * (count - len(ids))


def _flat(choices: Any) -> list[tuple[Any, Any]]:
    flat = []
    for key, label in choices:
        if isinstance(label, list | tuple):
            flat.extend(label)
        else:
            flat.append((key, label))
    return flat


def field_map(*bound: forms.BaseForm | forms.BaseFormSet) -> dict[str, forms.Field | None]:
    """Post names → their form field (``None`` for a formset's management fields)."""
    names: dict[str, forms.Field | None] = {}
    for form in bound:
        if isinstance(form, forms.BaseFormSet):
            for name in form.management_form.fields:
                names[form.management_form.add_prefix(name)] = None
            for member in form.forms:
                names.update(field_map(member))
        else:
            for name, field in form.fields.items():
                names[form.add_prefix(name)] = field
    return names


@st.composite
def hostile_post(draw: st.DrawFn, valid: Mapping[str, Any], fields: dict[str, Any]) -> dict:
    """``valid`` with a few of ``fields`` replaced, dropped or doubled; now and then all."""
    names = sorted(set(fields) | set(valid))
    everything = draw(st.integers(0, 9)) == 0
    chosen = (
        names
        if everything
        else draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    )
    post: dict[str, Any] = dict(valid)
    for name in chosen:
        field = fields.get(name)
        options = [junk, st.just(ABSENT), st.lists(junk, min_size=2, max_size=3)]
        if field is not None:
            options = [extreme(field), extreme(field), *options]
        value = draw(st.one_of(*options))
        if value == ABSENT:
            post.pop(name, None)
        else:
            post[name] = value
    return post


def send(client: Any, url: str, data: Mapping[str, Any], **extra: Any) -> Any:
    """Posts, and follows a redirect with a GET (which must render): the page shows the
    messages the post left, so none is still waiting to confuse the next example."""
    response = client.post(url, data, **extra)
    if response.status_code in (301, 302, 303):
        landing = client.get(response["Location"])
        assert landing.status_code == 200, f"{response['Location']}: {landing.status_code}"
    return response


def told_success(response: Any) -> bool:
    """A redirecting view's post saved: it said so, and no error came with it."""
    levels = {message.level for message in get_messages(response.wsgi_request)}
    return (
        response.status_code in (301, 302, 303)
        and constants.SUCCESS in levels
        and max(levels) < constants.WARNING
    )


def explained(response: Any, *, saved: bool) -> bool:
    """Whether the user was told what went wrong (a form error on the page, an error message
    after a redirect, or a 4xx); a successful save needs no explanation."""
    if saved:
        return True
    if 400 <= response.status_code < 500:
        return True
    if response.status_code in (301, 302, 303):
        return any(
            message.level >= constants.WARNING for message in get_messages(response.wsgi_request)
        )
    body = response.content.decode()
    errors = []
    for context in response.context or []:
        for value in context.flatten().values():
            if isinstance(value, forms.BaseFormSet):
                errors += value.non_form_errors() + [
                    error for member in value.errors for errs in member.values() for error in errs
                ]
            elif isinstance(value, forms.BaseForm) and value.is_bound:
                errors += [error for errs in value.errors.values() for error in errs]
    return bool(errors) and any(escape(error) in body for error in errors)


def rows(*querysets: Any) -> list[list[dict[str, Any]]]:
    """The rows of each queryset, every column: what must not change when nothing was saved."""
    return [list(queryset.order_by("pk").values()) for queryset in querysets]
