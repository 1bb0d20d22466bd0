from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "crm.accounts"
    label = "accounts"
    verbose_name = _("Accounts and organisation")

    def ready(self) -> None:
        from crm.accounts import demo  # noqa: F401 - registers the demo step
        from crm.accounts.models import Province, Region, Team, User
        from crm.core import choices

        choices.track(User, Team, Region, Province)
