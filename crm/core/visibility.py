"""The visibility contract: every owned model answers ``visible_to(user)``.

Reps see what they own or what is shared with them; sales managers and team heads see their team
subtree; service supervisors their department; analysts and admins everything. Views fetch
through it, and a record outside it is a 404, never a 403 that would confirm it exists. Analysts
read only: a view that changes a record fetches it with ``get_changeable_or_404``, which answers
them 403 (they may see the record, so its existence is no secret to them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Expression, F, Func, Q
from django.http import Http404
from django.utils.translation import gettext as _

from crm.accounts.roles import Level

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from crm.accounts.models import User

M = TypeVar("M", bound=models.Model)


class InSubquery(Func):
    """``expression IN (subquery)`` that stays fast under an OR.

    Postgres cannot combine a plain ``IN (SELECT …)`` with other conditions under an OR except
    by reading the whole table. Written ``= ANY(ARRAY(SELECT …))`` the subquery runs once, and
    each arm of the OR becomes an index scan (a bitmap OR). Other databases get the plain IN.
    """

    output_field = models.BooleanField()

    def __init__(self, expression: Expression | F, queryset: models.QuerySet[Any]) -> None:
        super().__init__(expression, models.Subquery(queryset))

    def _parts(self, compiler: Any, connection: Any) -> tuple[str, str, list[Any]]:
        lhs, lhs_params = compiler.compile(self.source_expressions[0])
        rhs, rhs_params = compiler.compile(self.source_expressions[1])
        return lhs, rhs, [*lhs_params, *rhs_params]

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        lhs, rhs, params = self._parts(compiler, connection)
        return f"{lhs} IN {rhs}", params

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        lhs, rhs, params = self._parts(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", params


def team_owners(user: User) -> models.QuerySet[Any] | None:
    """The keys of the owners whose records ``user`` sees through the teams they cover, as a
    subquery: the teams' members and the user (who may head a team outside their own). None
    for a user who covers no team and sees their own records only."""
    team_ids = user.visibility.team_ids
    if not team_ids:
        return None
    from crm.accounts.models import User

    return User.objects.filter(Q(pk=user.pk) | Q(team_id__in=team_ids)).values("pk")


class VisibleQuerySet(models.QuerySet[M]):
    """Base queryset for owned records. Subclasses name their owner and shared-with fields."""

    owner_field = "owner"
    shared_field: str | None = None

    def visible_to(self, user: User | AnonymousUser) -> VisibleQuerySet[M]:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.visibility.level == Level.ALL:
            return self.all()
        owners = team_owners(user)
        if owners is not None:
            # By subquery rather than a join on the owner, and in one arm: the owner column's
            # index answers it alone, as an index-only scan where the index covers the query.
            scope = Q(InSubquery(F(self.owner_field), owners))
        else:
            scope = Q(**{self.owner_field: user})
        if self.shared_field:
            # A subquery, not a join: a join on the many-to-many would repeat shared rows.
            shared = self.model._default_manager.filter(**{self.shared_field: user})
            scope |= Q(InSubquery(F("pk"), shared.values("pk")))
        return self.filter(scope)


def get_visible_or_404(queryset: Any, user: User | AnonymousUser, **lookup: Any) -> Any:
    """The one object matching ``lookup`` among those ``user`` may see, or a 404."""
    if isinstance(queryset, type) and issubclass(queryset, models.Model):
        queryset = queryset._default_manager.all()
    try:
        return queryset.visible_to(user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        # A malformed key ("?customer=abc") is a record that does not exist, not a 500.
        raise Http404(queryset.model._meta.verbose_name) from error


def ensure_may_change(user: User | AnonymousUser) -> None:
    """Refuses read-only users (analysts) with a 403."""
    if user.is_authenticated and user.visibility.read_only:
        raise PermissionDenied(_("Your role may read these records but not change them."))


def get_changeable_or_404(queryset: Any, user: User | AnonymousUser, **lookup: Any) -> Any:
    """Like ``get_visible_or_404``, for views that change the object: read-only users get 403."""
    obj = get_visible_or_404(queryset, user, **lookup)
    ensure_may_change(user)
    return obj
