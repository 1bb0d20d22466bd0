"""Satisfaction surveys: CSAT (1–5 stars) when a ticket closes, NPS (0–10) a week after a
customer is won; low scores open a follow-up task; scores roll up per agent, department and month.

A survey is asked for by a domain event (``ticket.status_changed`` to closed,
``customer.changed`` / ``customer.created`` to won) and recorded once per event. Sending is a
claim on ``sent_at``, so the after-commit kick and the beat sweep never mail one survey twice.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crm.accounts.models import Team, User
from crm.core import events
from crm.core.tasks import enqueue
from crm.notifications.services import notify
from customers.events import CUSTOMER_CHANGED, CUSTOMER_CREATED
from customers.models import Customer
from tickets import calendar
from tickets.events import TICKET_STATUS_CHANGED
from tickets.models import Survey, SurveySettings, Ticket

if TYPE_CHECKING:
    from crm.core.models import DomainEvent
    from followups.models import FollowUpTask

# A customer flipped to won twice within this window gets one NPS survey, not two.
NPS_REPEAT_DAYS = 90


def public_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


# --- asking ------------------------------------------------------------------------------------


def on_ticket_status_changed(event: DomainEvent) -> None:
    if event.payload.get("status") != Ticket.Status.CLOSED:
        return
    ticket = (
        Ticket.objects.filter(pk=event.object_id)
        .select_related("assignee", "department", "contact")
        .first()
    )
    if ticket is not None:
        csat_request(ticket=ticket, event_id=event.pk)


def on_customer_won(event: DomainEvent) -> None:
    # A created event carries the type it was created with; a changed one names what changed.
    if event.name == CUSTOMER_CREATED and event.payload.get("type") != Customer.Type.WON:
        return
    if event.name == CUSTOMER_CHANGED and "type" not in event.payload.get("changed", []):
        return
    customer = Customer.objects.filter(pk=event.object_id, type=Customer.Type.WON).first()
    if customer is not None:
        nps_request(customer=customer, won_at=event.created_at, event_id=event.pk)


@transaction.atomic
def csat_request(*, ticket: Ticket, event_id: int | None = None) -> Survey:
    """A 1–5 star survey on the closed ticket, sent at once. A ticket closed again after a
    reopening is asked again; the earlier unanswered link stops working."""
    now = timezone.now()
    if event_id is not None:
        existing = Survey.objects.filter(source_event=event_id).first()
        if existing is not None:
            return existing
    Survey.objects.filter(ticket=ticket, kind=Survey.Kind.CSAT, answered_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    ).update(expires_at=now, send_after=now)
    survey = Survey.objects.create(
        kind=Survey.Kind.CSAT,
        ticket=ticket,
        customer_id=ticket.customer_id,
        contact=ticket.contact,
        recipient_name=ticket.contact_name,
        email=ticket.contact_email,
        agent=ticket.assignee,
        department=ticket.department,
        source_event=event_id,
        send_after=now,
    )
    transaction.on_commit(lambda: _kick(survey.pk))
    return survey


def _kick(survey_id: int) -> None:
    from tickets.tasks import send_survey

    enqueue(send_survey, survey_id)


@transaction.atomic
def nps_request(
    *, customer: Customer, won_at: datetime.datetime, event_id: int | None = None
) -> Survey | None:
    """An NPS survey to the customer's primary contact, due a week (survey settings) after the
    deal; none when the contact has no email or one was asked for recently."""
    if event_id is not None and Survey.objects.filter(source_event=event_id).exists():
        return None
    recent = won_at - datetime.timedelta(days=NPS_REPEAT_DAYS)
    if Survey.objects.filter(
        kind=Survey.Kind.NPS, customer=customer, created_at__gte=recent
    ).exists():
        return None
    contact = customer.contacts.exclude(email="").order_by("-is_primary", "id").first()
    if contact is None:
        return None
    delay = datetime.timedelta(days=SurveySettings.load().nps_delay_days)
    return Survey.objects.create(
        kind=Survey.Kind.NPS,
        customer=customer,
        contact=contact,
        recipient_name=contact.name,
        email=contact.email,
        source_event=event_id,
        send_after=won_at + delay,
    )


events.subscribe(TICKET_STATUS_CHANGED, on_ticket_status_changed)
events.subscribe(CUSTOMER_CHANGED, on_customer_won)
events.subscribe(CUSTOMER_CREATED, on_customer_won)


# --- sending -----------------------------------------------------------------------------------


def survey_send(*, survey_id: int, now: datetime.datetime | None = None) -> bool:
    """Opens the survey's link and emails it, once: the conditional update on ``sent_at`` is
    the claim. A CSAT survey without an email address is still opened: the customer finds it
    on their status page."""
    from django.core.mail import EmailMultiAlternatives
    from django.template.loader import render_to_string
    from django.utils import translation

    from crm.core.models import CompanySettings

    now = now or timezone.now()
    survey = Survey.objects.filter(pk=survey_id).first()
    if survey is None:
        return False
    options = SurveySettings.load()
    days = options.csat_valid_days if survey.kind == Survey.Kind.CSAT else options.nps_valid_days
    expires_at = now + datetime.timedelta(days=days)
    claimed = Survey.objects.filter(pk=survey_id, sent_at__isnull=True).update(
        sent_at=now, expires_at=expires_at
    )
    if not claimed or not survey.email:
        return False
    survey.sent_at, survey.expires_at = now, expires_at
    context = {
        "survey": survey,
        "ticket": survey.ticket,
        "result": _result(survey.ticket) if survey.ticket else "",
        "customer": survey.customer,
        "company": CompanySettings.load(),
        "survey_url": public_url(survey.get_absolute_url()),
        "status_url": public_url(f"/service/{survey.ticket.public_token}/")
        if survey.ticket
        else "",
    }
    name = f"tickets/emails/survey_{survey.kind}"
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"{name}-subject.txt", context).split())
        text = render_to_string(f"{name}-body.txt", context)
        html = render_to_string(f"{name}-body.html", context)
    message = EmailMultiAlternatives(subject, text, to=[survey.email])
    message.attach_alternative(html, "text/html")
    message.send()
    return True


def _result(ticket: Ticket) -> str:
    """The resolution as the customer was told it: the last public reply."""
    reply = ticket.messages.filter(kind="reply").order_by("-created_at", "-id").first()
    return reply.body if reply else ""


def surveys_send_due(*, now: datetime.datetime, limit: int = 200) -> int:
    """The beat sweep: surveys whose time has come (NPS a week after the deal) and any whose
    after-commit kick was lost."""
    ids = list(
        Survey.objects.due_to_send(now).order_by("send_after").values_list("pk", flat=True)[:limit]
    )
    return sum(survey_send(survey_id=pk, now=now) for pk in ids)


# --- answering ---------------------------------------------------------------------------------


@transaction.atomic
def survey_answer(
    *, survey: Survey, score: int, comment: str = "", now: datetime.datetime | None = None
) -> Survey:
    """Records the one answer a survey takes. A low score (survey settings: ≤ 2 stars,
    NPS ≤ 6) opens a follow-up task for the supervisor and tells them."""
    now = now or timezone.now()
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if survey.is_answered:
        raise ValidationError(_("This survey has already been answered. Thank you!"))
    if survey.sent_at is None or survey.is_expired(now):
        raise ValidationError(_("This survey link has expired."))
    if score not in survey.scale:
        raise ValidationError(
            {"score": _("Choose a score from %(low)s to %(high)s.")},
            params={"low": survey.scale[0], "high": survey.scale[-1]},
        )
    survey.score = score
    survey.comment = comment.strip()
    survey.answered_at = now
    survey.save(update_fields=["score", "comment", "answered_at"])
    transaction.on_commit(rollups_changed)
    if is_low(survey):
        _follow_up(survey, now)
    return survey


def is_low(survey: Survey) -> bool:
    return survey.score is not None and survey.score <= low_limit(survey.kind)


def supervisor_for(survey: Survey) -> User | None:
    """Who answers for a low score: for a ticket, the head of its department (else of the
    agent's team); for NPS, the head of the customer owner's team (else the owner)."""
    if survey.kind == Survey.Kind.CSAT:
        for team in (survey.department, survey.agent.team if survey.agent else None):
            head = _head_above(team)
            if head is not None:
                return head
        return None
    owner = survey.customer.owner if survey.customer else None
    if owner is None:
        return None
    return _head_above(owner.team, skip=owner) or owner


def _head_above(team: Team | None, *, skip: User | None = None) -> User | None:
    while team is not None:
        head = team.head if team.head_id else None
        if head is not None and head.pk != getattr(skip, "pk", None) and head.is_active:
            return head
        team = team.parent
    return None


def _follow_up(survey: Survey, now: datetime.datetime) -> None:
    from followups.services import task_create

    supervisor = supervisor_for(survey)
    if supervisor is None:
        return
    task: FollowUpTask | None = None
    if survey.customer is not None:
        if survey.kind == Survey.Kind.CSAT and survey.ticket:
            title = _("Low satisfaction (%(score)s★) on ticket %(number)s: call the customer") % {
                "score": survey.score,
                "number": survey.ticket.number,
            }
        else:
            title = _("Low recommendation score (%(score)s/10): call the customer") % {
                "score": survey.score
            }
        task = task_create(
            customer=survey.customer,
            owner=supervisor,
            by=supervisor,
            title=title[:200],
            due_at=calendar.add_working_days(now, 1),
            content=survey.comment,
        )
        survey.followup_task = task
        survey.save(update_fields=["followup_task"])
    target = survey.ticket or survey.customer
    url = target.get_absolute_url() if target is not None else ""
    notify(
        [supervisor],
        "survey_low_score",
        survey,
        url=url,
        context={"survey": survey, "task": task},
    )


# --- roll-up -----------------------------------------------------------------------------------

ROLLUP_VERSION_KEY = "tickets:surveys:rollup-version"
ROLLUP_TIMEOUT = 600


def rollups_changed() -> None:
    """A new answer: every cached roll-up is out of date."""
    try:
        cache.incr(ROLLUP_VERSION_KEY)
    except ValueError:  # no version yet: nothing cached under the old one
        cache.set(ROLLUP_VERSION_KEY, 1, None)


def cached_score_rollups(
    surveys: QuerySet[Survey], *, scope: str, kind: str, low: int, months: int
) -> dict[Dimension, list[ScoreRow]]:
    """``score_rollups`` from the cache: answers arrive a few a minute while the roll-up reads
    every answer of the period (and, for a supervisor, whether each ticket is theirs). Renewed
    by each answer, and after ten minutes (the period's start moves). ``scope`` names whose
    view ``surveys`` is (a user)."""
    version = cache.get(ROLLUP_VERSION_KEY, 0)
    key = f"tickets:rollups:{version}:{scope}:{kind}:{low}:{months}:{get_language()}"
    rollups = cache.get(key)
    if rollups is None:
        rollups = score_rollups(surveys, kind=kind, low=low)
        cache.set(key, rollups, ROLLUP_TIMEOUT)
    return rollups


Dimension = Literal["agent", "department", "month"]


@dataclass(frozen=True)
class ScoreRow:
    key: object
    label: str
    answered: int
    average: float | None
    low: int
    promoters: int = 0
    detractors: int = 0

    @property
    def nps(self) -> int | None:
        """Net promoter score: % promoters (9–10) minus % detractors (0–6)."""
        if not self.answered:
            return None
        return round((self.promoters - self.detractors) * 100 / self.answered)


def low_limit(kind: str) -> int:
    options = SurveySettings.load()
    return options.low_csat_max if kind == Survey.Kind.CSAT else options.low_nps_max


def score_rollup(
    surveys: QuerySet[Survey], *, kind: str, by: Dimension, low: int | None = None
) -> list[ScoreRow]:
    """Answered surveys of ``kind`` grouped by agent, department or month of the answer (see
    ``score_rollups``)."""
    return score_rollups(surveys, kind=kind, low=low)[by]


def score_rollups(
    surveys: QuerySet[Survey], *, kind: str, low: int | None = None
) -> dict[Dimension, list[ScoreRow]]:
    """Answered surveys of ``kind`` grouped by agent, by department and by month of the answer:
    count, average, low scores (at most ``low``, by default the survey settings') and, for
    NPS, promoters and detractors. One query, grouped by all three at once (a few hundred
    groups), summed up here into each breakdown."""
    if low is None:
        low = low_limit(kind)
    answered = surveys.filter(kind=kind, answered_at__isnull=False).annotate(
        month=TruncMonth("answered_at", tzinfo=timezone.get_current_timezone())
    )
    keys: dict[Dimension, list[str]] = {
        "agent": ["agent_id", "agent__username", "agent__first_name", "agent__last_name"],
        "department": ["department_id", "department__name"],
        "month": ["month"],
    }
    groups = (
        answered.values(*[field for fields in keys.values() for field in fields])
        .annotate(
            answered=Count("pk"),
            total=Sum("score"),
            low=Count("pk", filter=Q(score__lte=low)),
            promoters=Count("pk", filter=Q(score__gte=9)),
            detractors=Count("pk", filter=Q(score__lte=6)),
        )
        .order_by()
    )
    sums: dict[Dimension, dict[tuple[Any, ...], dict[str, Any]]] = {by: {} for by in keys}
    for group in groups:
        for by, fields in keys.items():
            key = tuple(group[field] for field in fields)
            row = sums[by].setdefault(
                key,
                {**{field: group[field] for field in fields}, **dict.fromkeys(COUNTED, 0)},
            )
            for name in COUNTED:
                row[name] += group[name] or 0
    return {
        by: [
            _row(row, by, kind)
            # The order of the grouped queries this replaces: by key, empty last.
            for _key, row in sorted(
                rows.items(),
                key=lambda item: tuple((value is None, value or 0) for value in item[0][:1]),
            )
        ]
        for by, rows in sums.items()
    }


COUNTED = ("answered", "total", "low", "promoters", "detractors")


def _row(row: dict, by: Dimension, kind: str) -> ScoreRow:
    if by == "agent":
        name = f"{row['agent__last_name'] or ''}{row['agent__first_name'] or ''}"
        key, label = row["agent_id"], name or row["agent__username"] or _("Unassigned")
    elif by == "department":
        key, label = row["department_id"], row["department__name"] or _("No department")
    else:
        key = row["month"]
        label = f"{timezone.localtime(row['month']):%Y-%m}" if row["month"] else ""
    nps = kind == Survey.Kind.NPS
    return ScoreRow(
        key=key,
        label=label,
        answered=row["answered"],
        average=row["total"] / row["answered"] if row["answered"] else None,
        low=row["low"],
        promoters=row["promoters"] if nps else 0,
        detractors=row["detractors"] if nps else 0,
    )
