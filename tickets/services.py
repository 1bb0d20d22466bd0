"""Service desk use cases: intake with auto-dispatch, the status flow, messages, collaborators,
SLA deadlines and delay explanations.

Every function is keyword-only and atomic; events (``ticket.created``, ``ticket.status_changed``)
are written in the same transaction as the change they describe. ``by=None`` means the customer
(the portal, an inbound email) or the system.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.models import Team, User
from crm.accounts.roles import Role
from crm.accounts.services import resolve_assignee
from crm.core import events
from crm.core.attachments import attachment_add
from crm.core.numbering import next_number
from crm.core.tasks import enqueue
from crm.notifications.services import notify
from customers.models import Contact, Customer
from tickets import calendar
from tickets.events import TICKET_CREATED, TICKET_STATUS_CHANGED
from tickets.models import (
    Collaborator,
    DelayExplanation,
    DeskSettings,
    QueueAgent,
    ServiceQueue,
    SLAPolicy,
    Ticket,
    TicketCategory,
    TicketEvent,
    TicketMessage,
)

NUMBER_PREFIX = "GW"
Status = Ticket.Status


# --- who may do what ---------------------------------------------------------------------------


def is_supervisor(user: User) -> bool:
    """Service supervisors, department heads and admins may dispatch and assign."""
    if user.is_superuser or user.has_role(Role.SERVICE_SUPERVISOR, Role.ADMIN):
        return True
    return bool(Team.objects.tree().headed_by(user.pk))


def can_work_on(ticket: Ticket, user: User, *, supervisor: bool | None = None) -> bool:
    """Whether ``user`` may reply, change status and file explanations (beyond seeing it).
    ``supervisor``: ``is_supervisor(user)`` when the caller knows it already."""
    if supervisor is None:
        supervisor = is_supervisor(user)
    if user.pk == ticket.assignee_id or supervisor:
        return True
    if ticket.queue_id and QueueAgent.objects.filter(queue_id=ticket.queue_id, user=user).exists():
        return True
    return ticket.collaborators.filter(user=user).exists()


def _require_work(ticket: Ticket, user: User | None) -> None:
    if user is not None and not can_work_on(ticket, user):
        raise PermissionDenied


def _require_supervisor(user: User) -> None:
    if not is_supervisor(user):
        raise PermissionDenied


# --- SLA ---------------------------------------------------------------------------------------


def sla_policy_for(priority: str, category: TicketCategory | None) -> SLAPolicy:
    """The category's own policy for the priority, its parent's, else the general one."""
    category_ids = []
    if category is not None:
        category_ids = [category.pk, *([category.parent_id] if category.parent_id else [])]
    policies = {
        policy.category_id: policy
        for policy in SLAPolicy.objects.filter(priority=priority).filter(
            Q(category_id__in=category_ids) | Q(category__isnull=True)
        )
    }
    for key in [*category_ids, None]:
        if key in policies:
            return policies[key]
    raise ValidationError(
        _("No SLA policy exists for the priority “%(priority)s”; an administrator must add one."),
        params={"priority": Ticket.Priority(priority).label},
    )


def _target(start: datetime.datetime, amount: int, unit: str) -> datetime.datetime:
    if unit == SLAPolicy.Unit.WORKING_DAYS:
        return calendar.add_working_days(start, amount)
    return calendar.add_working_time(start, datetime.timedelta(hours=amount))


def sla_deadlines(
    *,
    start: datetime.datetime,
    priority: str,
    category: TicketCategory | None,
    paused: datetime.timedelta = datetime.timedelta(),
) -> tuple[datetime.datetime, datetime.datetime]:
    """First-response and resolution deadlines of a ticket opened at ``start`` whose clock has
    stood still for ``paused`` working time so far."""
    policy = sla_policy_for(priority, category)
    response = _target(start, policy.response_target, policy.response_unit)
    resolution = _target(start, policy.resolution_target, policy.resolution_unit)
    if paused:
        resolution = calendar.add_working_time(resolution, paused)
    return response, resolution


def _reset_sla_claims(ticket: Ticket, now: datetime.datetime) -> list[str]:
    """Deadlines moved into the future may warn and breach again."""
    fields = []
    if ticket.first_response_due > now:
        ticket.response_warned_at = ticket.response_breached_at = None
        fields += ["response_warned_at", "response_breached_at"]
    if ticket.resolution_due > now:
        ticket.resolution_warned_at = ticket.resolution_breached_at = None
        fields += ["resolution_warned_at", "resolution_breached_at"]
    return fields


# --- dispatch ----------------------------------------------------------------------------------


def _open_load(user_ids: Iterable[int]) -> dict[int, int]:
    rows = (
        Ticket.objects.open()
        .filter(assignee_id__in=list(user_ids))
        .values("assignee_id")
        .annotate(count=Count("id"))
    )
    return {row["assignee_id"]: row["count"] for row in rows}


def dispatch_pick(queue: ServiceQueue) -> User | None:
    """The agent the next ticket of ``queue`` goes to; call with the queue row locked.

    Candidates are the queue's agents on duty in rotation order, starting after the one who
    received the last ticket (round-robin) or the one with the fewest open tickets (least
    loaded, ties in rotation order). An agent on leave hands over to their backup; an
    unavailable agent without a usable backup is skipped.
    """
    members = list(queue.members.filter(on_duty=True, user__is_active=True).select_related("user"))
    if not members:
        return None
    start = next(
        (
            index + 1
            for index, member in enumerate(members)
            if member.user_id == queue.last_assigned_id
        ),
        0,
    )
    rotation = members[start:] + members[:start]
    resolved: list[tuple[QueueAgent, User]] = []
    for member in rotation:
        user = resolve_assignee(member.user)
        if user is not None:
            resolved.append((member, user))
    if not resolved:
        return None
    if queue.mode == ServiceQueue.Mode.LEAST_LOADED:
        load = _open_load(user.pk for _member, user in resolved)
        member, user = min(resolved, key=lambda pair: load.get(pair[1].pk, 0))
    else:
        member, user = resolved[0]
    queue.last_assigned_id = member.user_id
    queue.save(update_fields=["last_assigned"])
    return user


def _log(
    ticket: Ticket,
    kind: str,
    by: User | None,
    *,
    note: str = "",
    from_status: str = "",
    to_status: str = "",
    at: datetime.datetime | None = None,
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket,
        kind=kind,
        actor=by,
        note=note[:500],
        from_status=from_status,
        to_status=to_status,
        created_at=at or timezone.now(),
    )


def _notify_assigned(ticket: Ticket, by: User | None) -> None:
    if ticket.assignee is not None and ticket.assignee != by:
        notify(
            [ticket.assignee],
            "ticket_assigned",
            ticket,
            actor=by,
            url=ticket.get_absolute_url(),
            context={"ticket": ticket},
        )


def _auto_dispatch(ticket: Ticket, by: User | None) -> None:
    queue_id = ticket.queue_id
    if queue_id is None:
        category_queue = ticket.category.routed_queue()
        if category_queue is None or not category_queue.is_active:
            return
        ticket.queue = category_queue
        ticket.department_id = category_queue.team_id
        ticket.save(update_fields=["queue", "department"])
        queue_id = category_queue.pk
    # The queue row is the dispatch lock: concurrent creations pick one after the other.
    queue = ServiceQueue.objects.select_for_update().get(pk=queue_id)
    assignee = dispatch_pick(queue)
    if assignee is None:
        return
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee"])
    _log(
        ticket,
        TicketEvent.Kind.ASSIGNED,
        None,
        note=_("Dispatched to %(name)s") % {"name": assignee.display_name},
    )
    _notify_assigned(ticket, by)


def can_manage_queue(queue: ServiceQueue, user: User) -> bool:
    """Admins, and supervisors or heads whose department covers the queue's team."""
    if user.is_superuser or user.has_role(Role.ADMIN):
        return True
    return is_supervisor(user) and queue.team_id in user.visibility.team_ids


@transaction.atomic
def queue_agent_set_duty(*, member: QueueAgent, on_duty: bool, by: User) -> QueueAgent:
    """Puts an agent on or off duty (在岗) in a queue: only agents on duty receive dispatch.
    Agents switch themselves; supervisors anyone in their department's queues."""
    if by.pk != member.user_id and not can_manage_queue(member.queue, by):
        raise PermissionDenied
    if member.on_duty != on_duty:
        member.on_duty = on_duty
        member.save(update_fields=["on_duty"])
    return member


# --- intake ------------------------------------------------------------------------------------


@transaction.atomic
def ticket_create(
    *,
    customer: Customer | None = None,
    contact: Contact | None = None,
    contact_name: str,
    contact_phone: str = "",
    contact_email: str = "",
    category: TicketCategory,
    description: str,
    channel: str,
    subject: str = "",
    priority: str | None = None,
    by: User | None = None,
    uploads: Sequence[UploadedFile] = (),
    created_at: datetime.datetime | None = None,
) -> Ticket:
    """Logs a ticket, sets its SLA deadlines and dispatches it to its category's queue.

    ``by`` is the agent who logged it, or ``None`` when the customer submitted it (portal,
    inbound email). ``priority`` defaults to the category's. ``uploads`` are attached to the
    ticket and need an uploader: the portal passes them only with a ``by``. Emits
    ``ticket.created``.
    """
    if not description.strip():
        raise ValidationError({"description": _("Describe the request.")})
    if contact is not None and customer is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": _("This contact belongs to another customer.")})
    if customer is None and contact is not None:
        customer = contact.customer
    now = created_at or timezone.now()
    priority = priority or category.default_priority
    response_due, resolution_due = sla_deadlines(start=now, priority=priority, category=category)
    queue = category.routed_queue()
    ticket = Ticket.objects.create(
        number=next_number(NUMBER_PREFIX, day=timezone.localdate(now)),
        subject=(subject.strip() or Ticket.subject_from(description))[:200],
        description=description.strip(),
        category=category,
        priority=priority,
        channel=channel,
        customer=customer,
        contact=contact,
        contact_name=contact_name.strip()[:100],
        contact_phone=contact_phone.strip(),
        contact_email=contact_email.strip(),
        queue=queue if queue is not None and queue.is_active else None,
        department_id=queue.team_id if queue is not None else None,
        created_by=by,
        created_at=now,
        first_response_due=response_due,
        resolution_due=resolution_due,
    )
    _log(ticket, TicketEvent.Kind.CREATED, by, to_status=Status.NEW, at=now)
    if by is not None:
        for upload in uploads:
            attachment_add(target=ticket, upload=upload, by=by)
    _auto_dispatch(ticket, by)
    events.emit(TICKET_CREATED, ticket, actor=by, data=event_data(ticket))
    return ticket


def event_data(ticket: Ticket) -> dict[str, object]:
    """The fields rule conditions test, as plain values."""
    return {
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "category": ticket.category_id,
        "queue": ticket.queue_id,
        "assignee": ticket.assignee_id,
    }


# --- dispatch by people ------------------------------------------------------------------------


@transaction.atomic
def ticket_assign(*, ticket: Ticket, assignee: User, by: User) -> Ticket:
    """A supervisor hands the ticket to someone (re-dispatch)."""
    _require_supervisor(by)
    if not assignee.is_active:
        raise ValidationError({"assignee": _("This user is not active.")})
    if ticket.assignee_id == assignee.pk:
        return ticket
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee"])
    _log(
        ticket,
        TicketEvent.Kind.ASSIGNED,
        by,
        note=_("Assigned to %(name)s") % {"name": assignee.display_name},
    )
    _notify_assigned(ticket, by)
    return ticket


@transaction.atomic
def tickets_assign(*, tickets: Iterable[Ticket], assignee: User, by: User) -> int:
    """Bulk assignment from a queue screen; returns how many tickets changed hands."""
    _require_supervisor(by)
    changed = 0
    for ticket in tickets:
        if ticket.assignee_id != assignee.pk:
            ticket_assign(ticket=ticket, assignee=assignee, by=by)
            changed += 1
    return changed


@transaction.atomic
def ticket_redispatch(*, ticket: Ticket, by: User) -> Ticket:
    """A supervisor runs auto-dispatch again (after duty or leave changes)."""
    _require_supervisor(by)
    previous = ticket.assignee_id
    _auto_dispatch(ticket, by)
    if ticket.assignee_id == previous:
        raise ValidationError(_("Nobody else in the queue is on duty to take this ticket."))
    return ticket


@transaction.atomic
def ticket_dispatch(*, ticket: Ticket, by: User | None = None) -> User | None:
    """Runs auto-dispatch for a ticket without an assignee (the automation action "assign by
    the category's queue"); returns who received it, or ``None`` when nobody is on duty."""
    ticket = Ticket.objects.select_related("category__parent").get(pk=ticket.pk)
    if ticket.assignee_id is None:
        _auto_dispatch(ticket, by)
    return ticket.assignee


@transaction.atomic
def ticket_take(*, ticket: Ticket, by: User) -> Ticket:
    """An agent of the ticket's queue takes an unassigned ticket and starts on it."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    _require_work(ticket, by)
    if ticket.assignee_id not in (None, by.pk):
        raise ValidationError(_("This ticket has already been taken."))
    if ticket.assignee_id is None:
        ticket.assignee = by
        ticket.save(update_fields=["assignee"])
        _log(
            ticket,
            TicketEvent.Kind.ASSIGNED,
            by,
            note=_("Taken by %(name)s") % {"name": by.display_name},
        )
    if ticket.status == Status.NEW:
        ticket_move(ticket=ticket, status=Status.PROCESSING, by=by)
    return ticket


# --- status flow -------------------------------------------------------------------------------


def delay_explanation_required(ticket: Ticket, now: datetime.datetime | None = None) -> bool:
    """More than N days (desk settings, default 3) past due without an explanation covering
    today: the ticket cannot move on until its owner files one."""
    now = now or timezone.now()
    limit = datetime.timedelta(days=DeskSettings.load().delay_explanation_after_days)
    return ticket.is_open and ticket.overdue_by(now) > limit


@transaction.atomic
def ticket_move(
    *,
    ticket: Ticket,
    status: str,
    by: User | None,
    note: str = "",
    now: datetime.datetime | None = None,
) -> Ticket:
    """Moves the ticket along the status flow, logging who and when.

    Entering "awaiting customer confirmation" pauses the SLA clock (and records the resolution);
    leaving it, or reopening a closed ticket, resumes it with the deadline pushed back by the
    working time spent paused. Staff moves of a ticket long past due need a delay explanation
    first. Emits ``ticket.status_changed``; surveys listen for the move to closed.
    """
    now = now or timezone.now()
    _require_work(ticket, by)
    if not ticket.can_move_to(status):
        raise ValidationError(
            _("A ticket cannot go from “%(from)s” to “%(to)s”."),
            params={"from": ticket.get_status_display(), "to": Status(status).label},
        )
    if by is not None and delay_explanation_required(ticket, now):
        raise ValidationError(
            _(
                "This ticket is more than %(days)s days past due: its owner must file a delay "
                "explanation (reason and new date) first."
            ),
            params={"days": DeskSettings.load().delay_explanation_after_days},
        )
    previous = ticket.status
    fields = ["status"]
    if status in Ticket.RUNNING and ticket.paused_at is not None:
        paused = calendar.working_time_between(ticket.paused_at, now)
        ticket.paused_total += paused
        ticket.resolution_due = calendar.add_working_time(ticket.resolution_due, paused)
        ticket.paused_at = None
        fields += ["paused_total", "resolution_due", "paused_at", *_reset_sla_claims(ticket, now)]
    if status not in Ticket.RUNNING and ticket.paused_at is None:
        ticket.paused_at = now
        fields.append("paused_at")
    if status == Status.AWAITING:
        ticket.resolved_at = now
        fields += ["resolved_at", *ticket.mark_first_response(now), *ticket.mark_resolution(now)]
    if status == Status.CLOSED:
        ticket.closed_at = now
        fields.append("closed_at")
        if previous != Status.AWAITING:  # closed without asking the customer to confirm
            fields += ticket.mark_resolution(now)
    if previous == Status.CLOSED:
        ticket.closed_at = None
        ticket.resolved_at = None
        ticket.resolution_minutes = None
        fields += ["closed_at", "resolved_at", "resolution_minutes"]
    ticket.status = status
    ticket.save(update_fields=list(dict.fromkeys(fields)))
    _log(
        ticket,
        TicketEvent.Kind.STATUS,
        by,
        note=note,
        from_status=previous,
        to_status=status,
        at=now,
    )
    events.emit(
        TICKET_STATUS_CHANGED,
        ticket,
        actor=by,
        data={**event_data(ticket), "from_status": previous},
    )
    return ticket


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, by: User | None, reason: str = "") -> Ticket:
    """Closed → processing; the clock resumes where it stopped."""
    if ticket.status != Status.CLOSED:
        raise ValidationError(_("Only a closed ticket can be reopened."))
    return ticket_move(ticket=ticket, status=Status.PROCESSING, by=by, note=reason)


@transaction.atomic
def ticket_confirm_resolution(*, ticket: Ticket, by: User | None = None, note: str = "") -> Ticket:
    """The customer (``by=None``, from the status link) or an agent on their behalf confirms
    the resolution: awaiting confirmation → closed."""
    if ticket.status != Status.AWAITING:
        raise ValidationError(_("This ticket is not awaiting your confirmation."))
    return ticket_move(ticket=ticket, status=Status.CLOSED, by=by, note=note)


@transaction.atomic
def ticket_change_priority(*, ticket: Ticket, priority: str, by: User | None) -> Ticket:
    """Sets a new priority and recomputes both deadlines from the creation time, keeping the
    working time already spent paused. ``by=None``: an automation rule."""
    _require_work(ticket, by)
    if priority == ticket.priority:
        return ticket
    previous = ticket.get_priority_display()
    now = timezone.now()
    ticket.priority = priority
    ticket.first_response_due, ticket.resolution_due = sla_deadlines(
        start=ticket.created_at,
        priority=priority,
        category=ticket.category,
        paused=ticket.paused_total,
    )
    fields = ["priority", "first_response_due", "resolution_due", *_reset_sla_claims(ticket, now)]
    ticket.save(update_fields=fields)
    _log(
        ticket,
        TicketEvent.Kind.PRIORITY,
        by,
        note=f"{previous} → {ticket.get_priority_display()}",
    )
    return ticket


# --- messages ----------------------------------------------------------------------------------


@transaction.atomic
def ticket_message_add(
    *,
    ticket: Ticket,
    body: str,
    kind: str,
    by: User | None = None,
    author_name: str = "",
    uploads: Sequence[UploadedFile] = (),
) -> TicketMessage:
    """Adds a note, a public reply, or (``by=None``, kind customer) the customer's message.

    A first public reply stops the response clock and starts work on a new ticket; it is
    emailed to the customer. A customer's message on a ticket awaiting confirmation sends it
    back to processing; a closed ticket takes no more messages from the customer.
    """
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write a message.")})
    if (kind == TicketMessage.Kind.CUSTOMER) != (by is None):
        raise ValidationError(_("Only the customer writes customer messages."))
    _require_work(ticket, by)
    if by is None and ticket.status == Status.CLOSED:
        raise ValidationError(_("This ticket is closed. Submit a new request instead."))
    now = timezone.now()
    message = TicketMessage.objects.create(
        ticket=ticket,
        kind=kind,
        author=by,
        author_name=(author_name or ticket.contact_name)[:100] if by is None else "",
        body=body,
        created_at=now,
    )
    if by is not None:
        for upload in uploads:
            attachment_add(target=message, upload=upload, by=by)
    if kind == TicketMessage.Kind.REPLY:
        if answered := ticket.mark_first_response(now):
            ticket.save(update_fields=answered)
        if ticket.status == Status.NEW:
            ticket_move(ticket=ticket, status=Status.PROCESSING, by=by, now=now)
        if ticket.contact_email and DeskSettings.load().email_public_replies:
            from tickets.tasks import send_reply_email

            transaction.on_commit(lambda: enqueue(send_reply_email, message.pk))
    elif kind == TicketMessage.Kind.CUSTOMER:
        if ticket.status == Status.AWAITING:
            ticket_move(ticket=ticket, status=Status.PROCESSING, by=None, now=now)
        if ticket.assignee is not None:
            notify(
                [ticket.assignee],
                "ticket_customer_message",
                ticket,
                url=ticket.get_absolute_url(),
                context={"ticket": ticket, "message": message},
            )
    return message


def reply_email_send(*, message_id: int) -> bool:
    """Emails a public reply to the customer once: the claim on ``emailed_at`` makes a retried
    or duplicated task send nothing twice."""
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import translation

    from crm.core.models import CompanySettings

    claimed = TicketMessage.objects.filter(
        pk=message_id, emailed_at__isnull=True, kind=TicketMessage.Kind.REPLY
    ).update(emailed_at=timezone.now())
    if not claimed:
        return False
    message = TicketMessage.objects.select_related("ticket", "author").get(pk=message_id)
    ticket = message.ticket
    if not ticket.contact_email:
        return False
    context = {
        "ticket": ticket,
        "message": message,
        "company": CompanySettings.load(),
        "status_url": settings.SITE_URL.rstrip("/")
        + reverse("service:status", args=[ticket.public_token]),
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string("tickets/emails/reply-subject.txt", context).split())
        text = render_to_string("tickets/emails/reply-body.txt", context)
        html = render_to_string("tickets/emails/reply-body.html", context)
    email = EmailMultiAlternatives(subject, text, to=[ticket.contact_email])
    email.attach_alternative(html, "text/html")
    email.send()
    return True


# --- collaborators -----------------------------------------------------------------------------


@transaction.atomic
def collaborator_add(
    *, ticket: Ticket, user: User, task: str, due_at: datetime.datetime, by: User
) -> Collaborator:
    """Asks someone (usually from another department) to help, with their own task and
    deadline; they see the ticket from then on."""
    _require_work(ticket, by)
    if user.pk == ticket.assignee_id:
        raise ValidationError({"user": _("The assignee is already working on this ticket.")})
    if ticket.collaborators.filter(user=user).exists():
        raise ValidationError({"user": _("This person already collaborates on the ticket.")})
    collaborator = Collaborator.objects.create(
        ticket=ticket, user=user, task=task.strip(), due_at=due_at, added_by=by
    )
    _log(
        ticket,
        TicketEvent.Kind.COLLABORATOR,
        by,
        note=_("%(name)s: %(task)s") % {"name": user.display_name, "task": collaborator.task},
    )
    notify(
        [user],
        "ticket_collaborator",
        ticket,
        actor=by,
        url=ticket.get_absolute_url(),
        context={"ticket": ticket, "collaborator": collaborator},
    )
    return collaborator


@transaction.atomic
def collaborator_complete(*, collaborator: Collaborator, by: User) -> Collaborator:
    if by.pk != collaborator.user_id and not can_work_on(collaborator.ticket, by):
        raise PermissionDenied
    if collaborator.done_at is None:
        collaborator.done_at = timezone.now()
        collaborator.save(update_fields=["done_at"])
        _log(
            collaborator.ticket,
            TicketEvent.Kind.COLLABORATOR,
            by,
            note=_("%(name)s finished: %(task)s")
            % {"name": collaborator.user.display_name, "task": collaborator.task},
        )
    return collaborator


# --- delay explanations ------------------------------------------------------------------------


@transaction.atomic
def delay_explanation_file(
    *, ticket: Ticket, reason: str, new_date: datetime.date, by: User
) -> DelayExplanation:
    """The owner (or a supervisor) explains why the ticket is late and commits to a new date;
    the department head sees it."""
    if by.pk != ticket.assignee_id and not is_supervisor(by):
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the delay.")})
    if new_date < timezone.localdate():
        raise ValidationError({"new_date": _("The new date cannot be in the past.")})
    explanation = DelayExplanation.objects.create(
        ticket=ticket, reason=reason.strip(), new_date=new_date, by=by
    )
    ticket.explained_until = new_date
    ticket.save(update_fields=["explained_until"])
    _log(
        ticket,
        TicketEvent.Kind.DELAY,
        by,
        note=_("New date %(date)s: %(reason)s")
        % {"date": new_date.isoformat(), "reason": explanation.reason},
    )
    head = ticket.department.head if ticket.department_id and ticket.department else None
    if head is not None and head != by:
        notify(
            [head],
            "ticket_delay_explained",
            ticket,
            actor=by,
            url=ticket.get_absolute_url(),
            context={"ticket": ticket, "explanation": explanation},
        )
    return explanation
