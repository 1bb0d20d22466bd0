from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.automation import registry
from crm.automation.models import Action, Condition, Rule
from crm.core import events


def trigger_choices() -> list[tuple[str, str]]:
    return [(event.name, f"{event.label} ({event.name})") for event in events.declared()]


def action_choices() -> list[tuple[str, str]]:
    return [(action.code, str(action.label)) for action in registry.actions()]


def _event(name: str) -> events.EventType | None:
    return next((event for event in events.declared() if event.name == name), None)


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = [
            "name",
            "description",
            "trigger",
            "delay_hours",
            "order",
            "is_active",
            "stop_after_match",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trigger"] = forms.ChoiceField(
            label=_("trigger event"), choices=trigger_choices()
        )


def field_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The fields conditions may test, grouped by the event that declares them."""
    return [
        (str(event.label), [(name, f"{label} ({name})") for name, label in event.fields.items()])
        for event in events.declared()
        if event.fields
    ]


class ConditionForm(forms.ModelForm):
    class Meta:
        model = Condition
        fields = ["group", "field", "operator", "value"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["field"] = forms.ChoiceField(
            label=_("field"), choices=[("", "---------"), *field_choices()]
        )


class ConditionFormSet(forms.BaseInlineFormSet):
    """Only the fields the trigger event declares may be tested (DESIGN: events register the
    fields conditions may use)."""

    def clean(self) -> None:
        super().clean()
        event = _event(self.instance.trigger)
        allowed = set(event.fields) if event else set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", {})
            if not data or data.get("DELETE"):
                continue
            if data.get("field") not in allowed:
                form.add_error(
                    "field",
                    ValidationError(
                        _("“%(field)s” is not a field of this event. Choose one of: %(fields)s."),
                        params={"field": data.get("field"), "fields": ", ".join(sorted(allowed))},
                        code="unknown_field",
                    ),
                )
            operator = data.get("operator")
            needs_value = operator not in (
                Condition.Operator.IS_EMPTY,
                Condition.Operator.NOT_EMPTY,
            )
            if needs_value and not (data.get("value") or "").strip():
                form.add_error("value", _("This operator needs a value."))


class ActionForm(forms.ModelForm):
    class Meta:
        model = Action
        fields = [
            "order",
            "type",
            "mode",
            "user",
            "team",
            "recipients",
            "role",
            "template",
            "hours",
            "field",
            "value",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"] = forms.ChoiceField(label=_("action"), choices=action_choices())


class ActionFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        event = _event(self.instance.trigger)
        for form in self.forms:
            data = getattr(form, "cleaned_data", {})
            if not data or data.get("DELETE"):
                continue
            try:
                action_type = registry.action(data.get("type", ""))
            except LookupError:
                form.add_error("type", _("Unknown action."))
                continue
            if action_type.model and event is not None and event.model != action_type.model:
                form.add_error("type", _("This action does not apply to the trigger's records."))
            for name in action_type.required:
                if not data.get(name):
                    form.add_error(name, _("This action needs this field."))
            if action_type.clean is not None:
                try:
                    action_type.clean(data)
                except ValidationError as error:
                    form.add_error(None, error)


class TryRuleForm(forms.Form):
    record_id = forms.IntegerField(label=_("Record id"), min_value=1)

    def __init__(self, *args: Any, rule: Rule, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rule = rule
        event = _event(rule.trigger)
        self.model = None
        if event is not None and event.model:
            from django.apps import apps

            self.model = apps.get_model(event.model)
            self.fields["record_id"].label = _("Id of the %(model)s") % {
                "model": self.model._meta.verbose_name
            }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.model is None:
            raise ValidationError(_("This rule's event has no record type to try it on."))
        record = self.model._default_manager.filter(pk=cleaned.get("record_id")).first()
        if record is None:
            self.add_error("record_id", _("No such record."))
        cleaned["record"] = record
        return cleaned
