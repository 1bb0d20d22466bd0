"""Service desk screens: queues, intake, the ticket with its timeline, and the actions on it."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.accounts.models import Leave, User
from crm.accounts.roles import Level, Role
from crm.core.choices import use_cached_choices
from crm.core.inputs import as_pk
from crm.core.models import Attachment
from crm.core.paging import CountedPaginator
from crm.core.search import icontains
from crm.core.visibility import InSubquery, get_changeable_or_404, get_visible_or_404
from customers import services as customer_services
from customers.models import Customer
from tickets import services
from tickets.forms import (
    AssignForm,
    BulkAssignForm,
    CollaboratorForm,
    DelayExplanationForm,
    IntakeForm,
    MessageForm,
    MoveForm,
    PriorityForm,
    service_staff,
)
from tickets.models import QueueAgent, ServiceQueue, SLAPolicy, Ticket, TicketMessage

QUEUES: dict[str, Any] = {
    "mine": gettext_lazy("My tickets"),
    "queue": gettext_lazy("My department's queue"),
    "unassigned": gettext_lazy("Unassigned"),
    "soon": gettext_lazy("Breaching soon"),
    "breached": gettext_lazy("Breached"),
    "closed": gettext_lazy("Closed"),
}
SORTS = {
    "due": ("next_due", "id"),
    "-due": ("-next_due", "-id"),
    "new": ("-created_at", "-id"),
    "old": ("created_at", "id"),
}
CLOSED_SORTS = {"due": ("resolution_due", "id"), "-due": ("-resolution_due", "-id")}
PAGE_SIZE = 50
# What a queue row shows: a page of whole tickets, customers and users would be read, converted
# and decrypted (the contact's phone) for nothing.
QUEUE_COLUMNS = (
    "number",
    "subject",
    "contact_name",
    "priority",
    "status",
    "closed_at",
    "customer__name",
    "category__name",
    "category__name_en",
    "category__parent__name",
    "category__parent__name_en",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
)
CLOSED_COUNTED = 1_000  # "999+" closed tickets
SEARCH_ROWS = 10


def is_service_staff(user: User) -> bool:
    """Who works the desk: agents, supervisors, admins, and anyone placed in a queue."""
    if user.is_superuser or user.has_role(Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.ADMIN):
        return True
    return QueueAgent.objects.filter(user=user).exists()


def soon_window() -> datetime.timedelta:
    """ "Breaching soon" reaches as far ahead as the widest warning threshold of the policies."""
    widest = SLAPolicy.objects.aggregate(widest=Max("warn_before_minutes"))["widest"]
    return datetime.timedelta(minutes=widest or 120)


def queue_filters(user: User, now: datetime.datetime, window: datetime.timedelta) -> dict[str, Q]:
    """Each queue tab as a condition on the user's visible tickets."""
    open_ = Q(status__in=Ticket.OPEN)
    running = Q(status__in=Ticket.RUNNING)
    if user.visibility.level == Level.ALL:
        department = open_
    else:
        queues = QueueAgent.objects.filter(user=user).values("queue_id")
        department = open_ & (
            Q(InSubquery(F("queue_id"), queues)) | Q(department_id__in=user.visibility.team_ids)
        )
    breached = running & (
        Q(resolution_due__lte=now) | Q(first_responded_at__isnull=True, first_response_due__lte=now)
    )
    soon = (
        running
        & ~breached
        & (
            Q(resolution_due__lte=now + window)
            | Q(first_responded_at__isnull=True, first_response_due__lte=now + window)
        )
    )
    return {
        "mine": open_ & Q(assignee=user),
        "queue": department,
        "unassigned": open_ & Q(assignee__isnull=True),
        "soon": soon,
        "breached": breached,
        "closed": Q(status=Ticket.Status.CLOSED),
    }


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    # Agents open on their own tickets; supervisors, analysts and admins on the department's.
    default = "mine" if user.has_role(Role.SERVICE_AGENT) else "queue"
    tab = request.GET.get("queue", default)
    if tab not in QUEUES:
        tab = default
    sort = request.GET.get("sort", "due")
    if sort not in SORTS:
        sort = "due"
    filters = queue_filters(user, now, soon_window())
    visible = Ticket.objects.visible_to(user)
    # The open tabs are counted over open tickets only (a few thousand, by index); closed ones
    # pile up for ever, so their count stops at CLOSED_COUNTED.
    counts: dict[str, int | str] = visible.open().aggregate(
        **{
            key: Count("id", filter=condition)
            for key, condition in filters.items()
            if key != "closed"
        }
    )
    closed = visible.filter(filters["closed"]).order_by()[:CLOSED_COUNTED].count()
    counts["closed"] = f"{closed - 1:,}+" if closed == CLOSED_COUNTED else closed
    tickets = visible.filter(filters[tab])
    search = request.GET.get("q", "").strip()
    if search:
        # The customers by subquery, not a join: each arm is then an index scan (the number
        # in capitals, characters and trigrams of the subject, the contact's and the customer's
        # name: crm.core.search).
        customers = Customer.objects.filter(icontains("name", search)).order_by().values("pk")
        tickets = tickets.filter(
            Q(number__iexact=search)
            | icontains("subject", search)
            | icontains("contact_name", search)
            | Q(InSubquery(F("customer_id"), customers))
        )
    # Closed tickets' clocks have stopped: "SLA due" is their resolution deadline, so that the
    # closed tab reads the (status, resolution_due) index instead of sorting every closed ticket.
    order = CLOSED_SORTS.get(sort, SORTS[sort]) if tab == "closed" else SORTS[sort]
    rows = (
        tickets.with_next_due()
        .select_related("category__parent", "customer", "assignee")
        .only(*QUEUE_COLUMNS)
        .order_by(*order)
    )
    # The pages of a tab are those of its count, taken above, not counted again (the closed tab
    # pages through the newest thousand it counts; older ones are found by search).
    paginator = (
        Paginator(rows, PAGE_SIZE)
        if search
        else CountedPaginator(rows, PAGE_SIZE, closed if tab == "closed" else counts[tab])
    )
    page = paginator.get_page(request.GET.get("page"))
    supervisor = services.is_supervisor(user)
    context = {
        "tickets": page.object_list,
        "page_obj": page,
        "closed_counted": CLOSED_COUNTED,
        "tab": tab,
        "queues": [(key, label, counts[key]) for key, label in QUEUES.items()],
        "sort": sort,
        "search": search,
        "now": now,
        "is_supervisor": supervisor,
        "assignees": list(service_staff()) if supervisor else [],
        "can_log": is_service_staff(user),
    }
    if request.htmx:
        return render(request, "tickets/ticket_list.html#queue", context)
    return render(request, "tickets/ticket_list.html", context)


@login_required
@require_POST
def ticket_bulk_assign(request: HttpRequest) -> HttpResponse:
    if not services.is_supervisor(request.user):
        raise PermissionDenied
    form = BulkAssignForm(request.POST, user=request.user)
    if form.is_valid():
        count = services.tickets_assign(
            tickets=form.cleaned_data["tickets"],
            assignee=form.cleaned_data["assignee"],
            by=request.user,
        )
        messages.success(request, _("%(count)s tickets assigned.") % {"count": count})
    else:
        for errors in form.errors.values():
            messages.error(request, errors[0])
    return redirect(request.POST.get("back") or "tickets:list")


# --- intake ------------------------------------------------------------------------------------


def _require_staff(user: User) -> None:
    if not is_service_staff(user):
        raise PermissionDenied


@login_required
def ticket_create(request: HttpRequest) -> HttpResponse:
    _require_staff(request.user)
    if request.method == "POST":
        form = IntakeForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                ticket = _create_from_intake(form.cleaned_data, request.user)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if Ticket.objects.visible_to(request.user).filter(pk=ticket.pk).exists():
                    messages.success(
                        request, _("Ticket %(number)s logged.") % {"number": ticket.number}
                    )
                    return redirect(ticket)
                # Routed to a queue the agent does not work on: its page would be a 404.
                messages.success(
                    request,
                    _("Ticket %(number)s logged and passed on to %(department)s.")
                    % {
                        "number": ticket.number,
                        "department": ticket.department or _("the feedback pool"),
                    },
                )
                return redirect("tickets:list")
    else:
        form = IntakeForm(initial={"customer": request.GET.get("customer")})
    return render(request, "tickets/ticket_form.html", _intake_context(form))


def _intake_context(form: IntakeForm) -> dict[str, Any]:
    customer = as_pk(form["customer"].value())
    selected = Customer.objects.filter(pk=customer).first() if customer is not None else None
    return {"form": form, "customer": selected}


@transaction.atomic
def _create_from_intake(data: dict[str, Any], by: User) -> Ticket:
    customer = data["customer"]
    contact = data["contact"]
    if contact is None and customer is not None:
        contact = customer_services.contact_add(
            customer=customer,
            by=by,
            name=data["contact_name"],
            phone=data["contact_phone"],
            email=data["contact_email"],
        )
    return services.ticket_create(
        customer=customer,
        contact=contact,
        contact_name=contact.name if contact else data["contact_name"],
        contact_phone=(contact.phone if contact else data["contact_phone"]) or "",
        contact_email=(contact.email if contact else data["contact_email"]) or "",
        category=data["category"],
        description=data["description"],
        subject=data["subject"],
        channel=data["channel"],
        priority=data["priority"] or None,
        by=by,
        uploads=data["attachments"],
    )


@login_required
def intake_customer_search(request: HttpRequest) -> HttpResponse:
    """The archive lookup of the intake form. Agents may find any customer here — to log a
    call they must — but see only names, numbers and masked contacts."""
    _require_staff(request.user)
    text = request.GET.get("q", "").strip()
    results = (
        list(
            Customer.objects.search(text)
            .prefetch_related("contacts")
            .order_by("name")[:SEARCH_ROWS]
        )
        if len(text) >= 2
        else []
    )
    return render(
        request, "tickets/ticket_form.html#search_results", {"results": results, "q": text}
    )


@login_required
def intake_customer_pick(request: HttpRequest) -> HttpResponse:
    """The chosen customer and its contacts, swapped into the intake form."""
    _require_staff(request.user)
    form = IntakeForm(initial={"customer": request.GET.get("customer")})
    return render(request, "tickets/ticket_form.html#customer_block", _intake_context(form))


# --- the ticket --------------------------------------------------------------------------------


def _timeline(ticket: Ticket) -> list[dict[str, Any]]:
    """Events and messages in one stream, oldest first; files fetched in one query."""
    message_list = list(ticket.messages.select_related("author"))
    files: dict[int, list[Attachment]] = {}
    if message_list:
        for attachment in Attachment.objects.filter(
            content_type=ContentType.objects.get_for_model(TicketMessage),
            object_id__in=[message.pk for message in message_list],
        ):
            files.setdefault(attachment.object_id, []).append(attachment)
    entries = [
        {"at": event.created_at, "event": event} for event in ticket.events.select_related("actor")
    ]
    entries += [
        {"at": message.created_at, "message": message, "files": files.get(message.pk, [])}
        for message in message_list
    ]
    return sorted(entries, key=lambda entry: entry["at"])


@login_required
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_visible_or_404(
        Ticket.objects.select_related(
            "category__parent", "customer", "contact", "assignee", "queue__team", "department"
        ),
        request.user,
        pk=pk,
    )
    now = timezone.now()
    supervisor = services.is_supervisor(request.user)
    can_work = services.can_work_on(ticket, request.user, supervisor=supervisor)
    context = {
        "ticket": ticket,
        "timeline": _timeline(ticket),
        "files": Attachment.objects.for_object(ticket),
        "collaborators": ticket.collaborators.select_related("user"),
        "explanations": ticket.delay_explanations.select_related("by"),
        "now": now,
        "breached": ticket.is_breached(now),
        "needs_explanation": services.delay_explanation_required(ticket, now),
        "can_work": can_work,
        "is_supervisor": supervisor,
        "moves": [(status, Ticket.Status(status).label) for status in _moves(ticket)],
        "message_form": MessageForm(),
        "assign_form": use_cached_choices(AssignForm(initial={"assignee": ticket.assignee_id})),
        "priority_form": PriorityForm(initial={"priority": ticket.priority}),
        "collaborator_form": use_cached_choices(CollaboratorForm()),
        "delay_form": DelayExplanationForm(),
    }
    return render(request, "tickets/ticket_detail.html", context)


def _moves(ticket: Ticket) -> list[str]:
    order = [Ticket.Status.PROCESSING, Ticket.Status.AWAITING, Ticket.Status.CLOSED]
    return [status for status in order if ticket.can_move_to(status)]


def _act(request: HttpRequest, pk: int) -> Ticket:
    """The ticket of a POST action: visible, and workable by the user."""
    ticket = get_visible_or_404(Ticket, request.user, pk=pk)
    if not services.can_work_on(ticket, request.user):
        raise PermissionDenied
    return ticket


def _done(request: HttpRequest, ticket: Ticket, error: ValidationError | None) -> HttpResponse:
    if error is not None:
        for message in error.messages:
            messages.error(request, message)
    return redirect(ticket)


@login_required
@require_POST
def ticket_take(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _act(request, pk)
    try:
        services.ticket_take(ticket=ticket, by=request.user)
    except ValidationError as error:
        return _done(request, ticket, error)
    messages.success(request, _("The ticket is yours."))
    return redirect(ticket)


@login_required
@require_POST
def ticket_move(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _act(request, pk)
    form = MoveForm(request.POST)
    error = None
    if not form.is_valid():
        error = ValidationError(_("Choose a valid status."))
    else:
        try:
            services.ticket_move(
                ticket=ticket,
                status=form.cleaned_data["status"],
                by=request.user,
                note=form.cleaned_data["note"],
            )
        except ValidationError as failure:
            error = failure
    return _done(request, ticket, error)


@login_required
@require_POST
def ticket_message(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _act(request, pk)
    form = MessageForm(request.POST, request.FILES)
    error = None
    if not form.is_valid():
        error = ValidationError([e for errors in form.errors.values() for e in errors])
    else:
        try:
            services.ticket_message_add(
                ticket=ticket,
                body=form.cleaned_data["body"],
                kind=form.cleaned_data["kind"],
                by=request.user,
                uploads=form.cleaned_data["attachments"],
            )
        except ValidationError as failure:
            error = failure
    return _done(request, ticket, error)


@login_required
@require_POST
def ticket_assign(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_visible_or_404(Ticket, request.user, pk=pk)
    if not services.is_supervisor(request.user):
        raise PermissionDenied
    form = AssignForm(request.POST)
    error = None
    if not form.is_valid():
        error = ValidationError(_("Choose someone to assign the ticket to."))
    else:
        services.ticket_assign(
            ticket=ticket, assignee=form.cleaned_data["assignee"], by=request.user
        )
    return _done(request, ticket, error)


@login_required
@require_POST
def ticket_redispatch(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_visible_or_404(Ticket, request.user, pk=pk)
    if not services.is_supervisor(request.user):
        raise PermissionDenied
    try:
        services.ticket_redispatch(ticket=ticket, by=request.user)
    except ValidationError as error:
        return _done(request, ticket, error)
    return _done(request, ticket, None)


@login_required
@require_POST
def ticket_priority(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _act(request, pk)
    form = PriorityForm(request.POST)
    error = None
    if not form.is_valid():
        error = ValidationError(_("Choose a valid priority."))
    else:
        try:
            services.ticket_change_priority(
                ticket=ticket, priority=form.cleaned_data["priority"], by=request.user
            )
        except ValidationError as failure:
            error = failure
    return _done(request, ticket, error)


@login_required
@require_POST
def collaborator_add(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _act(request, pk)
    form = CollaboratorForm(request.POST)
    error = None
    if not form.is_valid():
        error = ValidationError([e for errors in form.errors.values() for e in errors])
    else:
        try:
            services.collaborator_add(ticket=ticket, by=request.user, **form.cleaned_data)
        except ValidationError as failure:
            error = failure
    return _done(request, ticket, error)


@login_required
@require_POST
def collaborator_done(request: HttpRequest, pk: int, collaborator_pk: int) -> HttpResponse:
    ticket = get_visible_or_404(Ticket, request.user, pk=pk)
    collaborator = get_object_or_404(
        ticket.collaborators.select_related("user"), pk=collaborator_pk
    )
    services.collaborator_complete(collaborator=collaborator, by=request.user)
    return redirect(ticket)


@login_required
@require_POST
def delay_explanation(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_changeable_or_404(Ticket, request.user, pk=pk)
    # Refused before the form is read: an empty form must not answer "fix the errors".
    if request.user.pk != ticket.assignee_id and not services.is_supervisor(request.user):
        raise PermissionDenied
    form = DelayExplanationForm(request.POST)
    error = None
    if not form.is_valid():
        error = ValidationError([e for errors in form.errors.values() for e in errors])
    else:
        try:
            services.delay_explanation_file(ticket=ticket, by=request.user, **form.cleaned_data)
        except ValidationError as failure:
            error = failure
    return _done(request, ticket, error)


# --- duty ----------------------------------------------------------------------------------------


def _duty_queues(user: User) -> Any:
    queues = ServiceQueue.objects.filter(is_active=True).select_related("team")
    if user.is_superuser or user.visibility.level == Level.ALL:
        return queues
    return queues.filter(Q(team_id__in=user.visibility.team_ids) | Q(members__user=user)).distinct()


@login_required
def duty(request: HttpRequest) -> HttpResponse:
    """Who is on duty in each queue the user works in or supervises, with their open load."""
    _require_staff(request.user)
    today = timezone.localdate()
    queues = list(
        _duty_queues(request.user).prefetch_related(
            Prefetch(
                "members",
                queryset=QueueAgent.objects.select_related("user").annotate(
                    open_count=Count(
                        "user__assigned_tickets",
                        filter=~Q(user__assigned_tickets__status=Ticket.Status.CLOSED),
                    ),
                    on_leave=Exists(Leave.objects.on(today).filter(user_id=OuterRef("user_id"))),
                ),
            )
        )
    )
    for queue in queues:
        queue.manageable = services.can_manage_queue(queue, request.user)  # type: ignore[attr-defined]
    return render(request, "tickets/duty.html", {"queues": queues})


@login_required
@require_POST
def duty_set(request: HttpRequest, member_pk: int) -> HttpResponse:
    member = get_object_or_404(
        QueueAgent.objects.select_related("queue").filter(queue__in=_duty_queues(request.user)),
        pk=member_pk,
    )
    services.queue_agent_set_duty(
        member=member, on_duty=request.POST.get("on_duty") == "1", by=request.user
    )
    return redirect("tickets:duty")
