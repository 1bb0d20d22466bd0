import datetime

from django.utils import timezone

from crm.accounts.models import Leave, User


def user_is_available(user: User, *, on: datetime.date | None = None) -> bool:
    """Whether the user can take work at all: active and not expired (leave aside)."""
    return user.is_active and not user.is_expired(on)


def resolve_assignee(user: User, *, on: datetime.date | None = None) -> User | None:
    """Who should receive an automatic assignment meant for ``user`` on the given day.

    A user on leave hands over to their backup, following the chain while backups are on leave
    too. An inactive or expired user, or a chain that loops back, yields ``None``: the caller
    skips that candidate rather than assigning work nobody will see.
    """
    day = on or timezone.localdate()
    seen: set[int] = set()
    candidate: User | None = user
    while candidate is not None and candidate.pk not in seen:
        seen.add(candidate.pk)
        if not user_is_available(candidate, on=day):
            return None
        leave = Leave.objects.on(day).filter(user=candidate).select_related("backup").first()
        if leave is None:
            return candidate
        candidate = leave.backup
    return None
