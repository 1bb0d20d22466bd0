from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpportunitiesConfig(AppConfig):
    name = "opportunities"
    verbose_name = _("Opportunities")

    def ready(self) -> None:
        from crm.core import choices
        from opportunities import (  # noqa: F401 - each module registers itself
            demo,
            events,
            models,
            navigation,
            panels,
            reminders,
            schedules,
        )

        # The pipeline's dictionaries: the board, the list and the detail page draw their
        # dropdowns and columns from the cache.
        choices.track(
            models.Stage, models.LostReason, models.ObjectionType, models.OpportunityField
        )
