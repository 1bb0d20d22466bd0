import datetime
import secrets
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.models import Team, User
from crm.accounts.roles import Role
from crm.approvals import registry
from crm.approvals.models import ApprovalRequest, ExportRequest
from crm.notifications.services import notify


def default_approver(requester: User) -> User | None:
    """The head of the requester's team line: their team's head, or the next one up when they
    head it themselves; an administrator when the line has no other head."""
    team: Team | None = requester.team
    seen: set[int] = set()
    while team is not None and team.pk not in seen:
        seen.add(team.pk)
        if team.head_id is not None and team.head_id != requester.pk and team.head.is_active:
            return team.head
        team = team.parent
    return (
        User.objects.filter(is_active=True)
        .filter(models.Q(is_superuser=True) | models.Q(groups__name=Role.ADMIN))
        .exclude(pk=requester.pk)
        .order_by("pk")
        .first()
    )


@transaction.atomic
def approval_request_create(
    *,
    kind: str,
    action: str,
    summary: str,
    requester: User,
    target: models.Model | None = None,
    payload: dict[str, Any] | None = None,
    reason: str = "",
) -> ApprovalRequest:
    """Files a request with the approver the kind names (by default the team head) and tells
    them. One pending request per kind and target: a second is refused."""
    approval_kind = registry.get(kind)
    approver = (approval_kind.approver or default_approver)(requester)
    if approver is None:
        raise ValidationError(_("Nobody can approve this request: ask an administrator."))
    target_type = ContentType.objects.get_for_model(target) if target is not None else None
    if (
        target is not None
        and ApprovalRequest.objects.pending()
        .filter(kind=kind, target_type=target_type, target_id=target.pk)
        .exists()
    ):
        raise ValidationError(_("A request of this kind is already waiting for a decision."))
    try:
        with transaction.atomic():
            request = ApprovalRequest.objects.create(
                kind=kind,
                action=action,
                summary=summary[:300],
                payload=payload or {},
                target_type=target_type,
                target_id=target.pk if target is not None else None,
                requester=requester,
                approver=approver,
                reason=reason,
            )
    except IntegrityError as error:
        raise ValidationError(
            _("A request of this kind is already waiting for a decision.")
        ) from error
    notify(
        [approver],
        "approval_requested",
        request,
        actor=requester,
        url=request.get_absolute_url(),
        context={"request": request},
    )
    return request


def can_decide(request: ApprovalRequest, user: User) -> bool:
    # Nobody signs off their own request, not even an admin: approval needs a second person.
    return (
        request.status == ApprovalRequest.Status.PENDING
        and user.pk != request.requester_id
        and (user.pk == request.approver_id or user.has_role(Role.ADMIN))
    )


@transaction.atomic
def approval_decide(
    *, request: ApprovalRequest, by: User, approve: bool, note: str = ""
) -> ApprovalRequest:
    """Approves (applying the change in the same transaction) or denies a pending request.

    If applying fails, nothing is applied and the request stays pending.
    """
    request = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
    if not can_decide(request, by):
        raise PermissionDenied(_("You cannot decide this request."))
    if approve:
        registry.get(request.kind).apply(request)
    request.status = ApprovalRequest.Status.APPROVED if approve else ApprovalRequest.Status.DENIED
    request.decided_by = by
    request.decided_at = timezone.now()
    request.decision_note = note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    notify(
        [request.requester],
        "approval_decided",
        request,
        actor=by,
        url=request.get_absolute_url(),
        context={"request": request},
    )
    return request


@transaction.atomic
def approval_cancel(*, request: ApprovalRequest, by: User) -> ApprovalRequest:
    request = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
    if by.pk != request.requester_id or not request.can_move_to(ApprovalRequest.Status.CANCELLED):
        raise PermissionDenied(_("Only the requester can withdraw a pending request."))
    request.status = ApprovalRequest.Status.CANCELLED
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_at"])
    return request


def export_link_grant(export_request: ExportRequest, *, hours: int, notification: str) -> None:
    """On approval of an export request: a single-use download link for its requester, valid
    for ``hours``, announced by the ``notification`` template."""
    now = timezone.now()
    export_request.token = secrets.token_urlsafe(32)
    export_request.approved_at = now
    export_request.expires_at = now + datetime.timedelta(hours=hours)
    export_request.save(update_fields=["token", "approved_at", "expires_at"])
    notify(
        [export_request.user],  # type: ignore[attr-defined]
        notification,
        export_request,
        actor=None,
        url=export_request.download_url(),  # type: ignore[attr-defined]
        context={"export_request": export_request, "hours": hours},
    )


def export_link_claim(export_request: ExportRequest, *, by: User) -> None:
    """Uses up the link before the file is built: a second download, by a double click or by
    someone who copied the link, finds nothing."""
    now = timezone.now()
    claimed = (
        type(export_request)
        .objects.usable(now)  # type: ignore[attr-defined]
        .filter(pk=export_request.pk, user=by)
        .update(used_at=now)
    )
    if not claimed:
        raise ValidationError(_("This download link has expired or has already been used."))
