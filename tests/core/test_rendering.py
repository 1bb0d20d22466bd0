"""The form renderer writes drop-downs as Django's templates would."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.test.html import parse_html

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
