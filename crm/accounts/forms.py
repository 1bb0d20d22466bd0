from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import formats
from django.utils.translation import gettext_lazy as _


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "expired": _(
            "This account expired on %(date)s. Ask your administrator to extend it if you "
            "still need access."
        ),
        "inactive": _("This account has been deactivated. Ask your administrator for help."),
    }

    def confirm_login_allowed(self, user) -> None:  # type: ignore[no-untyped-def]
        super().confirm_login_allowed(user)
        if user.is_expired():
            raise forms.ValidationError(
                self.error_messages["expired"],
                code="expired",
                params={"date": formats.date_format(user.expires_on, "Y-m-d")},
            )
