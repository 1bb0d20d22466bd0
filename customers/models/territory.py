from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Region, Team
from customers.models.dictionaries import Industry


class TerritoryQuerySet(models.QuerySet["Territory"]):
    def for_customer(self, *, region_id: int | None, industry: Industry | None) -> Territory | None:
        """The most specific territory: region and industry, then region and the industry's
        section (a division falls back to its parent), then the region alone. One query."""
        if region_id is None:
            return None
        industry_ids = [] if industry is None else [industry.pk]
        if industry is not None and industry.parent_id:
            industry_ids.append(industry.parent_id)
        rows = {
            territory.industry_id: territory
            for territory in self.filter(
                Q(industry_id__in=industry_ids) | Q(industry__isnull=True), region_id=region_id
            ).select_related("user", "team", "region", "industry")
        }
        for industry_id in [*industry_ids, None]:
            if industry_id in rows:
                return rows[industry_id]
        return None


class Territory(models.Model):
    """A line of the territory table (销售区域): customers of a region and industry go to a user
    or, by round-robin, to a team. An empty industry covers every industry of the region."""

    region = models.ForeignKey(
        Region, on_delete=models.CASCADE, related_name="+", verbose_name=_("region")
    )
    industry = models.ForeignKey(
        Industry,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("industry"),
        help_text=_("Empty: every industry of the region not listed on its own."),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team"),
        help_text=_("Used when no user is set: round-robin among the team's members."),
    )

    objects = TerritoryQuerySet.as_manager()

    class Meta:
        ordering = ["region__sort_order", "region__code", "industry__code"]
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "industry"], name="territory_unique_region_industry"
            ),
            # NULLs are distinct in a unique index: the "every industry" line needs its own.
            models.UniqueConstraint(
                fields=["region"],
                condition=Q(industry__isnull=True),
                name="territory_unique_region_all_industries",
                violation_error_message=_("This region already has a line for every industry."),
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(team__isnull=False),
                name="territory_user_or_team",
                violation_error_message=_("Choose a user or a team."),
            ),
        ]

    def __str__(self) -> str:
        industry = self.industry.label if self.industry_id and self.industry else _("all")
        return f"{self.region} × {industry} → {self.user or self.team}"
