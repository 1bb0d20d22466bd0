"""Cached dropdown choices: no query once warm, a change shows at once, the chosen value stays
chosen and validation still reads the database."""

import pytest
from django import forms
from django.utils import translation

from crm.accounts.models import Team
from crm.core import choices
from crm.core.choices import use_cached_choices
from customers.models import Customer, SourceChannel

pytestmark = pytest.mark.django_db


class PickForm(forms.Form):
    source = forms.ModelChoiceField(queryset=SourceChannel.objects.filter(is_active=True))
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)


def options(form: PickForm, name: str) -> list[str]:
    return [str(label) for _, label in form.fields[name].choices]


def test_a_warm_form_renders_its_dropdowns_without_a_query(django_assert_num_queries):
    use_cached_choices(PickForm())
    with django_assert_num_queries(0):
        html = str(use_cached_choices(PickForm()))
    assert "展会" in html


class Spy:
    """The cache, with the names of the methods called on it."""

    def __init__(self, real):
        self.real, self.calls = real, []

    def __getattr__(self, name):
        self.calls.append(name)
        return getattr(self.real, name)


def test_a_warm_form_reads_the_cache_once(monkeypatch):
    use_cached_choices(PickForm())
    spy = Spy(choices.cache)
    monkeypatch.setattr(choices, "cache", spy)
    use_cached_choices(PickForm())
    assert spy.calls == ["get_many"]  # the version and both fields' entries, in one round trip


def test_a_new_entry_shows_on_the_next_render():
    before = options(use_cached_choices(PickForm()), "source")
    SourceChannel.objects.create(code="wechat_live", name="视频号直播", name_en="WeChat live")
    after = options(use_cached_choices(PickForm()), "source")
    assert "视频号直播" not in before
    assert "视频号直播" in after


def test_a_related_models_change_renews_the_lists(team_a):
    use_cached_choices(PickForm())
    team_a.name = "华东一组（新）"
    team_a.save()
    assert "华东一组（新）" in options(use_cached_choices(PickForm()), "team")


def test_each_language_has_its_own_labels():
    with translation.override("en"):
        english = options(use_cached_choices(PickForm()), "source")
    with translation.override("zh-hans"):
        chinese = options(use_cached_choices(PickForm()), "source")
    assert english != chinese


def test_the_chosen_value_is_rendered_selected_and_validated_against_the_database():
    source = SourceChannel.objects.filter(is_active=True).first()
    form = use_cached_choices(PickForm({"source": str(source.pk)}))
    assert form.is_valid()
    assert form.cleaned_data["source"] == source
    assert f'<option value="{source.pk}" selected>' in str(form["source"])

    source.is_active = False
    source.save()
    stale = use_cached_choices(PickForm({"source": str(source.pk)}))
    assert not stale.is_valid()  # the database, not the cache, decides


def test_untracked_models_keep_their_queryset():
    class CustomerForm(forms.Form):
        customer = forms.ModelChoiceField(queryset=Customer.objects.all())

    form = use_cached_choices(CustomerForm())
    assert not hasattr(form.fields["customer"], "_choices")
