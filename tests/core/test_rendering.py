"""The form renderer writes drop-downs as Django's templates would."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.test.html import parse_html
from django.utils.safestring import mark_safe

from crm.core.rendering import FormRenderer


class Everything(forms.Form):
    plain = forms.ChoiceField(choices=[("", "---------"), ("a", "A & <b>"), ("b", 'say "hi"')])
    grouped = forms.ChoiceField(
        choices=[
            ("华东", [("hz", "杭州"), ("sh", "上海")]),
            ("华北", [("bj", "北京")]),
            ("x", "其他"),
        ],
        required=False,
    )
    many = forms.MultipleChoiceField(choices=[(1, "一"), (2, "二"), (3, "三")], required=False)
    maybe = forms.NullBooleanField()
    disabled = forms.ChoiceField(choices=[("a", "A")], disabled=True)
    model_like = forms.TypedChoiceField(choices=[(None, "无"), (5, "五")], coerce=int)


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"plain": "a", "grouped": "sh", "many": ["1", "3"], "maybe": "true", "model_like": "5"},
        {"plain": '"><script>', "grouped": "nowhere", "many": ["9"]},
    ],
)
def test_selects_render_as_django_renders_them(data):
    fast = Everything(data, renderer=FormRenderer())
    slow = Everything(data, renderer=DjangoTemplates())
    for name in fast.fields:
        attrs = {"class": "form-select", "data-x": "<&>", "autofocus": True, "hidden": False}
        ours = fast[name].as_widget(attrs=attrs)
        theirs = slow[name].as_widget(attrs=attrs)
        assert parse_html(ours) == parse_html(theirs), name
        assert "<script>" not in ours


def test_other_widgets_render_through_their_templates():
    class Other(forms.Form):
        radio = forms.ChoiceField(choices=[("a", "A")], widget=forms.RadioSelect)
        text = forms.CharField()

    form = Other(renderer=FormRenderer())
    assert 'type="radio"' in str(form["radio"])
    assert 'type="text"' in str(form["text"])


class Inputs(forms.Form):
    text = forms.CharField(max_length=20)
    number = forms.DecimalField(max_digits=8, decimal_places=2)
    whole = forms.IntegerField(required=False)
    email = forms.EmailField(required=False)
    url = forms.URLField(required=False, assume_scheme="https")
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True), required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), required=False)
    moment = forms.DateTimeField(required=False)
    at = forms.TimeField(required=False)
    agree = forms.BooleanField(required=False)
    upload = forms.FileField(required=False)
    notes = forms.CharField(widget=forms.Textarea, required=False)
    phone = forms.CharField(widget=forms.TextInput(attrs={"type": "tel"}), required=False)


@pytest.mark.parametrize(
    "data",
    [
        None,
        {
            "text": '"><script>alert(1)</script>',
            "number": "12.50",
            "whole": "0",
            "email": "a&b@example.com",
            "url": "https://example.com/?a=1&b=<2>",
            "secret": "p<w>",
            "hidden": "x\"y'z",
            "day": "2026-12-07",
            "moment": "2026-12-07 08:30",
            "at": "08:30",
            "agree": "on",
            "notes": "第一行 & <b>\n第二行",
            "phone": "138 0000 0000",
        },
        {"text": "", "number": "abc", "notes": "", "agree": ""},
    ],
)
def test_inputs_and_textareas_render_as_django_renders_them(data):
    initial = {"notes": mark_safe("<i>kept</i>"), "text": "初始"} if data is None else None
    fast = Inputs(data, initial=initial, renderer=FormRenderer())
    slow = Inputs(data, initial=initial, renderer=DjangoTemplates())
    for name in fast.fields:
        attrs = {"class": "form-control", "data-x": "<&>", "autofocus": True, "hidden": False}
        ours = fast[name].as_widget(attrs=attrs)
        theirs = slow[name].as_widget(attrs=attrs)
        assert ours == theirs.strip(), name
        assert "<script>" not in ours
