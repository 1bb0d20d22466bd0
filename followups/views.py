"""Follow-up screens: my work, team, calendar, task, plan and record forms."""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.core.aggregates import count_where
from crm.core.visibility import get_changeable_or_404, get_visible_or_404
from customers.models import Customer
from followups import services
from followups.forms import (
    BulkTransferForm,
    CommitmentFormSet,
    PlanForm,
    RecordForm,
    RescheduleForm,
    TransferForm,
)
from followups.models import FollowUpPlan, FollowUpTask, FollowUpTaskQuerySet


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


# What a row of "my tasks" shows: the rows are a week of work (hundreds for a busy rep), and whole
# customers would each have their address decrypted.
MY_TASK_COLUMNS = ("title", "due_at", "customer__name", "method__name", "method__name_en")


def my_work_sections(user: Any, now: datetime.datetime) -> dict[str, Any]:
    """Overdue, today and the next 7 days from one query."""
    _start, end_of_today = services.day_bounds(now)
    week_end = end_of_today + datetime.timedelta(days=7)
    tasks = (
        FollowUpTask.objects.filter(owner=user)
        .pending()
        .filter(due_at__lt=week_end)
        .select_related("customer", "method")
        .only(*MY_TASK_COLUMNS)
    )
    sections: dict[str, list[FollowUpTask]] = {"overdue": [], "today": [], "upcoming": []}
    for task in tasks:
        if task.due_at < now:
            sections["overdue"].append(task)
        elif task.due_at < end_of_today:
            sections["today"].append(task)
        else:
            sections["upcoming"].append(task)
    return sections


# Tasks a section of "my tasks" shows before "show all" (a rep back from leave may have hundreds
# overdue; the count says how many).
SECTION_TASKS = 50


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    expanded = request.GET.get("all", "")
    work = {}
    for key, tasks in my_work_sections(request.user, timezone.now()).items():
        shown = tasks if key == expanded else tasks[:SECTION_TASKS]
        work[key] = {"tasks": shown, "total": len(tasks), "hidden": len(tasks) - len(shown)}
    context = {
        "work": work,
        "can_see_team": services.is_manager(request.user),
        "tab": "mine",
        "now": timezone.now(),
    }
    return render(request, "followups/task_list.html", context)


# What a row of the team view shows: 200 whole customers would each have their address decrypted.
TEAM_TASK_COLUMNS = (
    "title",
    "due_at",
    "customer__name",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
)


@login_required
def team(request: HttpRequest) -> HttpResponse:
    if not services.is_manager(request.user):
        raise PermissionDenied
    now = timezone.now()
    scoped = FollowUpTask.objects.visible_to(request.user).pending()
    if request.method == "POST":
        form = BulkTransferForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                count = services.tasks_transfer(
                    tasks=form.cleaned_data["tasks"],
                    to_user=form.cleaned_data["to_user"],
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                messages.error(request, error.messages[0])
            else:
                messages.success(request, _("%(count)s tasks transferred.") % {"count": count})
                return redirect("followups:team")
    else:
        form = BulkTransferForm(user=request.user)
    _start, end_of_today = services.day_bounds(now)
    context = {
        "form": form,
        "tab": "team",
        "can_see_team": True,
        "reps": scoped.values("owner", "owner__username", "owner__first_name", "owner__last_name")
        # Counted from the (owner, status, due) index alone: Count("id") read every task.
        .annotate(total=count_where(), overdue=count_where(Q(due_at__lt=now)))
        .order_by("-overdue", "owner__username"),
        "tasks": scoped.filter(due_at__lt=end_of_today + datetime.timedelta(days=7))
        .select_related("customer", "owner")
        .only(*TEAM_TASK_COLUMNS)
        .order_by("due_at")[:200],
        "now": now,
    }
    return render(request, "followups/team.html", context)


# Tasks shown in a day's cell; the rest are counted ("+N more") and listed on the day's page.
CALENDAR_TASKS_PER_DAY = {"month": 4, "week": 12}
CALENDAR_DAY_PAGE = 50
CALENDAR_VIEWS = ("month", "week", "day")


def _calendar_range(view: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    if view == "day":
        return day, day + datetime.timedelta(days=1)
    if view == "week":
        start = day - datetime.timedelta(days=day.weekday())
        return start, start + datetime.timedelta(days=7)
    first = day.replace(day=1)
    start = first - datetime.timedelta(days=first.weekday())
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    end = last + datetime.timedelta(days=7 - last.weekday())
    return start, end


def _calendar_steps(view: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    if view == "month":
        first = day.replace(day=1)
        return (first - datetime.timedelta(days=1)).replace(day=1), (
            first + datetime.timedelta(days=31)
        ).replace(day=1)
    step = datetime.timedelta(days=7 if view == "week" else 1)
    return day - step, day + step


@dataclass(frozen=True)
class CalendarChip:
    """A task as a calendar cell shows it, computed in Python: a month has up to 168 chips,
    and the template's per-chip filters and url tags cost more than the queries."""

    pk: int
    url: str
    reschedule_url: str  # empty unless the viewer may drag it: their own pending task
    time: str
    title: str
    customer: str
    state: str  # done, overdue or pending


@dataclass(frozen=True)
class CalendarDay:
    date: datetime.date
    iso: str
    chips: list[CalendarChip]
    more: int  # tasks of the day without a chip, listed on the day's page


def _urls_by_pk(name: str) -> Callable[[int], str]:
    """``reverse(name, args=[pk])`` for many keys at the cost of one reverse (tens of
    microseconds each): the route is reversed once with a marker key that is then replaced."""
    marker = "2147483647"
    pattern = reverse(name, args=[int(marker)])
    return lambda pk: pattern.replace(marker, str(pk))


def _calendar_weeks(
    user: Any,
    scoped: FollowUpTaskQuerySet,
    view: str,
    days: list[datetime.date],
    tz: datetime.tzinfo,
) -> list[list[CalendarDay]]:
    """The grid: each day with its first few tasks and how many more it has, in two queries
    whatever the number of tasks: counts and the first ids per day, then those tasks."""
    counts, ids = scoped.first_of_each_day(tz, limit=CALENDAR_TASKS_PER_DAY[view], first_owner=user)
    shown: dict[datetime.date, list[CalendarChip]] = defaultdict(list)
    if ids:
        task_url = _urls_by_pk("followups:task")
        reschedule_url = _urls_by_pk("followups:reschedule")
        now = timezone.now()
        rows = (
            scoped.filter(pk__in=ids)
            .order_by("due_at", "id")
            .values_list("pk", "title", "due_at", "status", "owner_id", "customer__name")
        )
        for pk, title, due_at, status, owner_id, customer in rows:
            pending = status == FollowUpTask.Status.PENDING
            local = timezone.localtime(due_at, tz)
            shown[local.date()].append(
                CalendarChip(
                    pk=pk,
                    url=task_url(pk),
                    reschedule_url=reschedule_url(pk) if pending and owner_id == user.pk else "",
                    time=local.strftime("%H:%M"),
                    title=title,
                    customer=customer,
                    state="done" if not pending else "overdue" if due_at < now else "pending",
                )
            )
    cells = [
        CalendarDay(d, d.isoformat(), shown[d], counts.get(d, 0) - len(shown[d])) for d in days
    ]
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]


@login_required
def task_calendar(request: HttpRequest) -> HttpResponse:
    view = request.GET.get("view", "month")
    view = view if view in CALENDAR_VIEWS else "month"
    try:
        day = datetime.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    start, end = _calendar_range(view, day)
    tz = timezone.get_current_timezone()
    scoped = FollowUpTask.objects.visible_to(request.user).on_calendar(
        datetime.datetime.combine(start, datetime.time(), tzinfo=tz),
        datetime.datetime.combine(end, datetime.time(), tzinfo=tz),
    )
    days = [start + datetime.timedelta(days=n) for n in range((end - start).days)]
    previous, following = _calendar_steps(view, day)
    context: dict[str, Any] = {
        "view": view,
        "day": day,
        "weekdays": days[:7],
        "previous": previous,
        "next": following,
        "today": timezone.localdate(),
        "now": timezone.now(),
    }
    if view == "day":
        # A page of ids first (from the index alone), then those tasks: sorting a busy day's
        # full rows made Postgres start parallel workers, which cost more than the sort.
        ids = scoped.order_by("due_at", "id").values_list("pk", flat=True)
        page_obj = Paginator(ids, CALENDAR_DAY_PAGE).get_page(request.GET.get("page"))
        context["page_obj"] = page_obj
        context["tasks"] = (
            scoped.filter(pk__in=list(page_obj)).select_related("customer", "owner")
            if page_obj
            else []
        )
    else:
        context["weeks"] = _calendar_weeks(request.user, scoped, view, days, tz)
    return render(request, "followups/calendar.html", context)


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_visible_or_404(
        FollowUpTask.objects.select_related("customer", "owner", "method", "plan"),
        request.user,
        pk=pk,
    )
    can_manage = services.can_manage_for(task.owner, request.user)
    context = {
        "task": task,
        "can_manage": can_manage,
        "is_owner": task.owner_id == request.user.pk,
        "transfer_form": TransferForm(user=request.user) if can_manage else None,
        "reschedule_form": RescheduleForm(
            initial={"due_at": timezone.localtime(task.due_at).replace(tzinfo=None)}
        ),
        "transfers": task.transfers.select_related("from_user", "to_user", "by"),
        "now": timezone.now(),
    }
    return render(request, "followups/task_detail.html", context)


@login_required
@require_POST
def task_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_changeable_or_404(FollowUpTask, request.user, pk=pk)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        problem = " ".join(error for errors in form.errors.values() for error in errors)
        if request.htmx:
            return HttpResponse(problem, status=400)
        messages.error(request, problem)
        return redirect(_safe_next(request, task.get_absolute_url()))
    try:
        services.task_reschedule(task=task, due_at=form.new_due_at(task), by=request.user)
    except ValidationError as error:
        if request.htmx:
            return HttpResponse(error.messages[0], status=409)
        messages.error(request, error.messages[0])
    if request.htmx:
        return HttpResponse(status=204)
    return redirect(_safe_next(request, task.get_absolute_url()))


@login_required
@require_POST
def task_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_visible_or_404(FollowUpTask, request.user, pk=pk)
    try:
        services.task_cancel(task=task, by=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return redirect(task.get_absolute_url())


@login_required
@require_POST
def task_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_visible_or_404(FollowUpTask.objects.select_related("owner"), request.user, pk=pk)
    if not services.can_manage_for(task.owner, request.user):
        raise PermissionDenied
    form = TransferForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.task_transfer(task=task, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, _("The task has been transferred."))
    else:
        messages.error(request, _("Choose a colleague and give a reason."))
    return redirect(task.get_absolute_url())


@login_required
def record_create(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The record form, for a task (``pk``) or a customer (``?customer=``); in a modal when
    htmx loads it, as a page otherwise."""
    task = None
    if pk is not None:
        task = get_changeable_or_404(
            FollowUpTask.objects.select_related("customer", "owner"), request.user, pk=pk
        )
        customer = task.customer
    else:
        customer = get_changeable_or_404(
            Customer, request.user, pk=request.GET.get("customer") or request.POST.get("customer")
        )
    default_next = reverse("followups:list")
    form = RecordForm(request.POST or None, request.FILES or None, task=task)
    commitments = CommitmentFormSet(request.POST or None, prefix="commitments")
    if request.method == "POST" and form.is_valid() and commitments.is_valid():
        data = dict(form.cleaned_data)
        uploads = data.pop("attachments")
        promised = [
            (row["description"], row["due_at"])
            for row in commitments.cleaned_data
            if row.get("description")
        ]
        try:
            services.record_create(
                customer=customer,
                by=request.user,
                task=task,
                commitments=promised,
                attachments=uploads,
                **data,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The follow-up has been recorded."))
            target = _safe_next(request, default_next)
            if request.htmx:
                return HttpResponse(status=204, headers={"HX-Redirect": target})
            return redirect(target)
    context = {
        "form": form,
        "commitments": commitments,
        "task": task,
        "customer": customer,
        "next": _safe_next(request, default_next),
    }
    if request.htmx:
        return render(request, "followups/record_form.html#form", context)
    return render(request, "followups/record_form.html", context)


@login_required
def plan_create(request: HttpRequest) -> HttpResponse:
    customer = get_changeable_or_404(
        Customer, request.user, pk=request.GET.get("customer") or request.POST.get("customer")
    )
    form = PlanForm(
        request.POST or None,
        user=request.user,
        initial={"owner": request.user, "starts_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        owner = data.pop("owner")
        services.plan_create(customer=customer, owner=owner, by=request.user, **data)
        messages.success(request, _("The follow-up plan has been saved."))
        return redirect(customer.get_absolute_url())
    return render(request, "followups/plan_form.html", {"form": form, "customer": customer})


@login_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_visible_or_404(
        FollowUpPlan.objects.select_related("customer", "owner"), request.user, pk=pk
    )
    if not services.can_manage_for(plan.owner, request.user):
        raise PermissionDenied
    form = PlanForm(request.POST or None, instance=plan, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        # The form has already written its values on the instance; reload the stored plan.
        plan.refresh_from_db()
        services.plan_update(plan=plan, by=request.user, **fields)
        messages.success(request, _("The follow-up plan has been saved."))
        return redirect(plan.customer.get_absolute_url())
    context = {"form": form, "customer": plan.customer, "plan": plan}
    return render(request, "followups/plan_form.html", context)


@login_required
@require_POST
def plan_pause(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_visible_or_404(
        FollowUpPlan.objects.select_related("customer", "owner"), request.user, pk=pk
    )
    services.plan_pause(plan=plan, by=request.user)
    messages.success(request, _("The plan is paused; its pending tasks stay."))
    return redirect(plan.customer.get_absolute_url())
