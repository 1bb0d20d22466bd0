"""The visibility contract: every owned model answers ``visible_to(user)``.

Reps see what they own or what is shared with them; sales managers and team heads see their team
subtree; service supervisors their department; analysts and admins everything. Views fetch
through it, and a record outside it is a 404, never a 403 that would confirm it exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.db.models import Q
from django.http import Http404

from crm.accounts.roles import Level

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from crm.accounts.models import User

M = TypeVar("M", bound=models.Model)


class VisibleQuerySet(models.QuerySet[M]):
    """Base queryset for owned records. Subclasses name their owner and shared-with fields."""

    owner_field = "owner"
    shared_field: str | None = None

    def visible_to(self, user: User | AnonymousUser) -> VisibleQuerySet[M]:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        visibility = user.visibility
        if visibility.level == Level.ALL:
            return self.all()
        scope = Q(**{self.owner_field: user})
        if self.shared_field:
            # A subquery, not a join: a join on the many-to-many would repeat shared rows.
            shared = self.model._default_manager.filter(**{self.shared_field: user})
            scope |= Q(pk__in=shared.values("pk"))
        if visibility.team_ids:
            scope |= Q(**{f"{self.owner_field}__team_id__in": visibility.team_ids})
        return self.filter(scope)


def get_visible_or_404(queryset: Any, user: User | AnonymousUser, **lookup: Any) -> Any:
    """The one object matching ``lookup`` among those ``user`` may see, or a 404."""
    if isinstance(queryset, type) and issubclass(queryset, models.Model):
        queryset = queryset._default_manager.all()
    try:
        return queryset.visible_to(user).get(**lookup)
    except queryset.model.DoesNotExist as error:
        raise Http404(queryset.model._meta.verbose_name) from error
