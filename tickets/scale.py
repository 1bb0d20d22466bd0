"""Scale data set and benchmark of the service desk (crm.core.scale).

Per 100,000 customers about 200,000 tickets over the last 18 months (more each month, fewer at
weekends, in office hours), routed to the two service groups' queues and dispatched to their
agents. Each runs its course on the real SLA policies and business calendar: first response,
resolution, the customer's confirmation, now and then a reopening; about one in eight answers
late and a sixth resolve late. What lies after the data set's "now" has not happened yet, so the
recent tickets are new, processing or awaiting confirmation, and a few old ones are stuck. Every
step is in the log (created, dispatched, status changes, SLA warnings and breaches, delay
explanations), with the replies, a few collaborators from sales, CSAT surveys on closed tickets
and NPS surveys of won customers, with their scores.

A live desk's sweep runs every minute, so its warnings and breaches have been announced, except
the most recent thousand (``DUE``): the SLA sweep meets that backlog. The benchmark also runs it
over 200,000 open tickets (the issue's case), by reopening closed tickets inside its rolled-back
transaction, their past deadlines counting as announced.

Generated tickets are numbered ``SCGW…``.
"""

from __future__ import annotations

import base64
import datetime
import heapq
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Case, F, Q, When
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.accounts.models import Team, User
from crm.core import scale
from customers.models import Customer
from tickets import calendar, escalation, services, surveys
from tickets.demo import NOTES, REPLIES, REQUESTS
from tickets.models import (
    Collaborator,
    DelayExplanation,
    QueueAgent,
    ServiceQueue,
    SLAPolicy,
    Survey,
    SurveySettings,
    Ticket,
    TicketCategory,
    TicketEvent,
    TicketMessage,
)
from tickets.models.tickets import working_minutes

NUMBER_PREFIX = f"{scale.CUSTOMER_NUMBER_PREFIX}GW"
WINDOW_DAYS = 548  # 18 months
DUE = 1_000  # unannounced SLA warnings and breaches per 100,000 customers
OPEN_FOR_THE_SWEEP = 200_000  # open tickets of the benchmark's second SLA sweep
Status = Ticket.Status
Kind = TicketEvent.Kind
# Which service group's queue each top category goes to.
ROUTES = {"投诉": "客服一组", "建议": "客服一组", "咨询": "客服二组"}
CHANNELS = [
    (Ticket.Channel.PORTAL, 30),
    (Ticket.Channel.PHONE, 35),
    (Ticket.Channel.EMAIL, 20),
    (Ticket.Channel.CHAT, 12),
    (Ticket.Channel.VISIT, 3),
]
HOURS = list(range(7, 23))
HOUR_WEIGHTS = [1, 4, 9, 10, 9, 5, 8, 10, 9, 8, 6, 3, 2, 2, 1, 1]
# How often a customer of each type calls the desk.
CUSTOMER_WEIGHTS = {
    Customer.Type.WON: 6,
    Customer.Type.INTENTION: 2,
    Customer.Type.POTENTIAL: 0.5,
    Customer.Type.LOST: 1,
}
ON_TIME_SCORES = [50, 30, 10, 6, 4]  # weights of 5, 4, 3, 2, 1 stars
LATE_SCORES = [20, 28, 25, 15, 12]
NPS_WEIGHTS = [1, 1, 1, 1, 2, 3, 4, 6, 10, 12, 10]
LOW_COMMENTS = ["处理太慢，等了好几天。", "问题没有真正解决。", "客服态度一般。"]
GOOD_COMMENTS = ["", "", "", "响应很及时，谢谢！", "工程师很专业。"]
NPS_REASONS = ["", "", "产品稳定，服务到位。", "价格偏高。", "实施周期较长。"]
DELAY_REASONS = [
    "等待厂家更换配件，预计三天内到货。",
    "需研发部定位问题。",
    "客户现场暂不具备条件。",
]
COLLABORATOR_TASKS = ["确认客户合同条款", "协助联系客户决策人", "核对发货记录"]
PORTAL_NAMES = ["张先生", "李女士", "王经理", "赵工", "陈女士"]

TICKET_COLUMNS = [
    "id", "number", "subject", "description", "category_id", "priority", "channel", "status",
    "customer_id", "contact_id", "contact_name", "contact_phone", "contact_email", "queue_id",
    "department_id", "assignee_id", "created_by_id", "created_at", "first_response_due",
    "resolution_due", "first_responded_at", "resolved_at", "closed_at", "paused_at",
    "paused_total", "response_warned_at", "response_breached_at", "resolution_warned_at",
    "resolution_breached_at", "explained_until", "public_token", "response_minutes",
    "resolution_minutes",
]  # fmt: skip
EVENT_COLUMNS = ["ticket_id", "kind", "actor_id", "from_status", "to_status", "note", "created_at"]
MESSAGE_COLUMNS = ["ticket_id", "kind", "author_id", "author_name", "body", "created_at"]
SURVEY_COLUMNS = [
    "kind", "token", "ticket_id", "customer_id", "contact_id", "recipient_name", "email",
    "agent_id", "department_id", "send_after", "sent_at", "expires_at", "score", "comment",
    "answered_at", "created_at",
]  # fmt: skip
CLAIMS = ["response_warned_at", "response_breached_at", "resolution_warned_at",
          "resolution_breached_at"]  # fmt: skip

GENERATED = "SELECT id FROM tickets_ticket WHERE number LIKE %s"


def _foreign_tickets() -> bool:
    marker = scale.CUSTOMER_NUMBER_PREFIX
    return (
        Ticket.objects.exclude(number__startswith=marker).exists()
        or Survey.objects.exclude(ticket__number__startswith=marker)
        .exclude(customer__number__startswith=marker)
        .exists()
    )


def _clear_tickets() -> None:
    marker = [NUMBER_PREFIX + "%"]
    customers = "SELECT id FROM customers_customer WHERE number LIKE %s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM tickets_survey WHERE ticket_id IN ({GENERATED}) "  # noqa: S608
            f"OR (ticket_id IS NULL AND customer_id IN ({customers}))",
            [*marker, scale.CUSTOMER_NUMBER_PREFIX + "%"],
        )
        for table in (
            "tickets_ticketevent",
            "tickets_ticketmessage",
            "tickets_collaborator",
            "tickets_delayexplanation",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE ticket_id IN ({GENERATED})", marker)  # noqa: S608
        cursor.execute("DELETE FROM tickets_ticket WHERE number LIKE %s", marker)


def _token(rng: Any) -> str:
    """A status-link or survey token in the real ones' form, drawn from the seed (these are
    test data: the benchmark never publishes them)."""
    return base64.urlsafe_b64encode(rng.randbytes(24)).decode()


def _queues() -> dict[str, tuple[ServiceQueue, list[int]]]:
    """The service groups' queues with their agents on duty; each top category routed to one
    (where an administrator has not routed it already)."""
    queues = {}
    for team in Team.objects.filter(name__in=set(ROUTES.values()), parent__name="客服部"):
        agents = list(
            User.objects.filter(team=team, username__startswith=f"{scale.USERNAME_PREFIX}agent-")
            .order_by("username")
            .values_list("pk", flat=True)
        )
        queue, _created = ServiceQueue.objects.get_or_create(team=team)
        for order, agent in enumerate(agents, start=1):
            QueueAgent.objects.get_or_create(
                queue=queue, user_id=agent, defaults={"sort_order": order}
            )
        queues[team.name] = (queue, agents)
    for name, team_name in ROUTES.items():
        if team_name in queues:
            TicketCategory.objects.filter(parent=None, name=name, queue=None).update(
                queue=queues[team_name][0]
            )
    return queues


class _Desk:
    """Draws each ticket's course and keeps the rows to copy."""

    def __init__(self, context: scale.ScaleContext) -> None:
        self.rng = context.random
        self.now = context.now
        self.csat_valid_days = SurveySettings.load().csat_valid_days
        self.calendar = calendar.company_calendar()
        self.policies: dict[tuple[str, int], SLAPolicy] = {}
        self.tickets: list[list[Any]] = []
        self.events: list[list[Any]] = []
        self.messages: list[list[Any]] = []
        self.collaborators: list[list[Any]] = []
        self.explanations: list[list[Any]] = []
        self.surveys: list[list[Any]] = []
        # Claims that fell due while the ticket runs: (moment, row index, claim column).
        self.pending: list[tuple[datetime.datetime, int, int]] = []
        with translation.override(settings.LANGUAGE_CODE):
            self.dispatched = _("Dispatched to %(name)s")
            self.near = _("The %(deadline)s deadline is near.")
            self.passed = _("The %(deadline)s deadline has passed.")
            self.labels = {"response": _("first response"), "resolution": _("resolution")}
            self.delay = _("New date %(date)s: %(reason)s")
            self.collaborating = _("%(name)s: %(task)s")

    def policy(self, priority: str, category: TicketCategory) -> SLAPolicy:
        key = (priority, category.pk)
        if key not in self.policies:
            self.policies[key] = services.sla_policy_for(priority, category)
        return self.policies[key]

    def deadline(self, start: datetime.datetime, amount: int, unit: str) -> datetime.datetime:
        if unit == SLAPolicy.Unit.WORKING_DAYS:
            return self.calendar.add_working_days(start, amount)
        return self.calendar.add_working_time(start, datetime.timedelta(hours=amount))

    def created_moment(self) -> datetime.datetime:
        """More tickets each month (a growing customer base), fewer at weekends, office hours."""
        rng = self.rng
        while True:
            # Half spread evenly, half more the more recent: three times as many a day at the
            # end of the window as at its start.
            share = rng.random() if rng.random() < 0.5 else rng.random() ** 0.5
            day = timezone.localdate(self.now) - datetime.timedelta(
                days=1 + int(WINDOW_DAYS * (1 - share))
            )
            if day.weekday() < 5 or rng.random() < 0.35:
                break
        hour = rng.choices(HOURS, weights=HOUR_WEIGHTS)[0]
        return timezone.make_aware(
            datetime.datetime.combine(day, datetime.time(hour, rng.randrange(60)))
        )

    def event(
        self, ticket: int, kind: str, actor: int | None, at: datetime.datetime, **extra: str
    ) -> None:
        self.events.append([
            ticket, kind, actor, extra.get("source", ""), extra.get("to", ""),
            extra.get("note", "")[:500], at,
        ])  # fmt: skip

    def ticket(
        self,
        pk: int,
        number: str,
        category: TicketCategory,
        queue: tuple[ServiceQueue, list[int]],
        contact: tuple[int, int, str, str, str] | None,
        agent_names: dict[int, str],
        created: datetime.datetime,
    ) -> None:
        rng = self.rng
        now = self.now
        priority = rng.choices(
            [category.default_priority, "urgent", "important"], weights=[80, 5, 15]
        )[0]
        policy = self.policy(priority, category)
        response_due = self.deadline(created, policy.response_target, policy.response_unit)
        resolution_due = self.deadline(created, policy.resolution_target, policy.resolution_unit)
        warn = datetime.timedelta(minutes=policy.warn_before_minutes)
        service_queue, agents = queue
        channel = rng.choices([c for c, _w in CHANNELS], weights=[w for _c, w in CHANNELS])[0]
        assignee = rng.choice(agents) if agents else None
        # The course the ticket would run, cut at "now" below.
        late_answer = rng.random() < 0.12
        answered = created + (response_due - created) * (
            rng.uniform(1.05, 2.0) if late_answer else rng.uniform(0.05, 0.95)
        )
        late = rng.random() < (0.45 if late_answer else 0.12)
        resolved = created + (resolution_due - created) * (
            rng.uniform(1.05, 1.8) if late else rng.uniform(0.15, 0.95)
        )
        resolved = max(resolved, answered + datetime.timedelta(minutes=rng.randint(10, 240)))
        confirmed = resolved + datetime.timedelta(hours=rng.uniform(0.1, 72))
        stuck = rng.choices(["", Status.PROCESSING, Status.AWAITING], weights=[96, 1.5, 2.5])[0]
        reopened = None
        if rng.random() < 0.03:
            reopened = confirmed + datetime.timedelta(hours=rng.uniform(1, 48))
        if assignee is None or (answered > now and rng.random() < 0.3):
            assignee = None  # nobody on duty when it came in: waiting in the queue
            answered = resolved = confirmed = now + datetime.timedelta(days=365)
            reopened = None
        if stuck == Status.PROCESSING:
            resolved = confirmed = now + datetime.timedelta(days=365)
            reopened = None
        elif stuck == Status.AWAITING:
            confirmed = now + datetime.timedelta(days=365)
            reopened = None

        logged_by = None if channel == Ticket.Channel.PORTAL else (assignee or rng.choice(agents))
        self.event(pk, Kind.CREATED, logged_by, created, to=Status.NEW)
        if assignee is not None:
            name = agent_names[assignee]
            self.event(pk, Kind.ASSIGNED, None, created, note=self.dispatched % {"name": name})
        status = Status.NEW
        first_responded = resolved_at = closed_at = paused_at = None
        paused_total = datetime.timedelta()
        resolution_resolved = resolved  # when the resolution clock stopped for good
        if answered <= now:
            status, first_responded = Status.PROCESSING, answered
            self.event(pk, Kind.STATUS, assignee, answered, source=Status.NEW, to=status)
            self.message(pk, TicketMessage.Kind.REPLY, assignee, REPLIES[0], answered)
            if rng.random() < 0.2:
                self.message(pk, TicketMessage.Kind.NOTE, assignee, rng.choice(NOTES), answered)
        if resolved <= now:
            status, resolved_at = Status.AWAITING, resolved
            paused_at = resolved
            self.event(pk, Kind.STATUS, assignee, resolved, source=Status.PROCESSING, to=status)
            self.message(pk, TicketMessage.Kind.REPLY, assignee, REPLIES[2], resolved)
        if confirmed <= now:
            status, closed_at = Status.CLOSED, confirmed
            self.event(pk, Kind.STATUS, None, confirmed, source=Status.AWAITING, to=status)
        if reopened is not None and reopened <= now:
            # The customer came back: the clock resumes with the paused time added, then the
            # second resolution is confirmed too (or not yet).
            paused_total = self.calendar.working_time_between(resolved, reopened)
            resolution_due = self.calendar.add_working_time(resolution_due, paused_total)
            self.event(pk, Kind.STATUS, None, reopened, source=Status.CLOSED, to=Status.PROCESSING)
            status, resolved_at, closed_at, paused_at = Status.PROCESSING, None, None, None
            again = reopened + datetime.timedelta(hours=rng.uniform(2, 48))
            resolution_resolved = again
            if again <= now:
                status, resolved_at, paused_at = Status.AWAITING, again, again
                self.event(pk, Kind.STATUS, assignee, again, source=Status.PROCESSING, to=status)
                self.message(pk, TicketMessage.Kind.REPLY, assignee, REPLIES[2], again)
                closed_again = again + datetime.timedelta(hours=rng.uniform(1, 48))
                if closed_again <= now:
                    status, closed_at = Status.CLOSED, closed_again
                    self.event(
                        pk, Kind.STATUS, None, closed_again, source=Status.AWAITING, to=status
                    )
        row = len(self.tickets)
        claims: list[datetime.datetime | None] = [None] * 4
        running = status in Ticket.RUNNING
        for offset, (due, done, label) in enumerate(
            [
                (response_due, answered, "response"),
                (resolution_due, resolution_resolved, "resolution"),
            ]
        ):
            # A warning when the deadline came near before the work was done, a breach when it
            # passed: announced when it happened, or left to the sweep when recent (``pending``).
            for index, moment, text in (
                (offset * 2, max(due - warn, created), self.near),
                (offset * 2 + 1, due, self.passed),
            ):
                if moment > now or moment >= done:
                    continue
                if running and done > now and (index % 2 == 1 or due > now):
                    # What the sweep would still act on: a breach, or a warning before it.
                    self.pending.append((moment, row, index))
                claims[index] = moment
                self.event(
                    pk,
                    Kind.SLA_WARNING if index % 2 == 0 else Kind.SLA_BREACH,
                    None,
                    moment,
                    note=text % {"deadline": self.labels[label]},
                )
        explained_until = None
        if running and resolution_due < now - datetime.timedelta(days=3) and rng.random() < 0.5:
            filed = resolution_due + datetime.timedelta(days=3, hours=rng.uniform(1, 30))
            filed = min(filed, now - datetime.timedelta(hours=1))
            explained_until = timezone.localdate(now) + datetime.timedelta(days=rng.randint(1, 7))
            reason = rng.choice(DELAY_REASONS)
            self.explanations.append([pk, reason, explained_until, assignee, filed])
            note = self.delay % {"date": explained_until.isoformat(), "reason": reason}
            self.event(pk, Kind.DELAY, assignee, filed, note=note)
        # The working minutes the services keep (Ticket.mark_first_response, mark_resolution).
        response_minutes = resolution_minutes = None
        if first_responded is not None:
            response_minutes = working_minutes(
                self.calendar.working_time_between(created, first_responded)
            )
        if resolved_at is not None:
            running_time = self.calendar.working_time_between(created, resolved_at) - paused_total
            resolution_minutes = working_minutes(max(running_time, datetime.timedelta()))
        if contact is not None:
            contact_id, customer_id, contact_name, phone, email = contact
        else:
            contact_id, customer_id, contact_name, phone, email = (
                None, None, rng.choice(PORTAL_NAMES), "", "",
            )  # fmt: skip
        subject, description = rng.choice(REQUESTS.get(category.name, [("咨询", "请尽快回复。")]))
        self.tickets.append([
            pk, number, subject, description, category.pk, priority, channel, status,
            customer_id, contact_id, contact_name, phone, email, service_queue.pk,
            service_queue.team_id, assignee, logged_by, created, response_due, resolution_due,
            first_responded, resolved_at, closed_at, paused_at, paused_total, *claims,
            explained_until, _token(rng), response_minutes, resolution_minutes,
        ])  # fmt: skip
        if status == Status.CLOSED and email and closed_at is not None:
            self.csat(row, closed_at, late or late_answer)

    def message(
        self, ticket: int, kind: str, author: int | None, body: str, at: datetime.datetime
    ) -> None:
        self.messages.append([ticket, kind, author, "", body, at])

    def csat(self, row: int, closed: datetime.datetime, late: bool) -> None:
        rng = self.rng
        ticket = self.tickets[row]
        valid = datetime.timedelta(days=self.csat_valid_days)
        answered = closed + datetime.timedelta(hours=rng.uniform(0.5, 72))
        score = None
        comment = ""
        if rng.random() < 0.65 and answered <= self.now:
            score = rng.choices([5, 4, 3, 2, 1], weights=LATE_SCORES if late else ON_TIME_SCORES)[0]
            comment = rng.choice(LOW_COMMENTS if score <= 2 else GOOD_COMMENTS)
        self.surveys.append([
            Survey.Kind.CSAT, _token(rng), ticket[0], ticket[8], ticket[9], ticket[10],
            ticket[12], ticket[15], ticket[14], closed, closed, closed + valid, score, comment,
            answered if score is not None else None, closed,
        ])  # fmt: skip

    def announce_all_but(self, due: int) -> None:
        """Leaves the ``due`` most recent claims of running tickets to the sweep: their columns
        are emptied and their log lines dropped."""
        recent = heapq.nlargest(due, self.pending)
        if not recent:
            return
        by_ticket: dict[int, set[datetime.datetime]] = defaultdict(set)
        for moment, row, index in recent:
            self.tickets[row][25 + index] = None
            by_ticket[self.tickets[row][0]].add(moment)
        self.events = [
            event
            for event in self.events
            if not (
                event[1] in (Kind.SLA_WARNING, Kind.SLA_BREACH)
                and event[6] in by_ticket.get(event[0], ())
            )
        ]


def _contacts(customer_ids: list[int]) -> dict[int, list[tuple[int, int, str, str, str]]]:
    """Each customer's contacts as stored (the phone still encrypted: a ticket keeps its own
    encrypted copy)."""
    found: dict[int, list[tuple[int, int, str, str, str]]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, customer_id, name, phone, email FROM customers_contact "
            "WHERE customer_id = ANY(%s) ORDER BY id",
            [customer_ids],
        )
        for row in cursor.fetchall():
            found[row[1]].append(row)
    return found


@scale.step(60, "tickets, events and surveys", clear=_clear_tickets, foreign=_foreign_tickets)
def seed_tickets(context: scale.ScaleContext) -> None:
    rng = context.random
    queues = _queues()
    categories = list(
        TicketCategory.objects.filter(parent__isnull=False, is_active=True).select_related("parent")
    )
    routed = [
        (category, queues[ROUTES[category.parent.name]])
        for category in categories
        if category.parent and ROUTES.get(category.parent.name) in queues
    ]
    if not routed:
        context.log("no service queues or ticket categories: skipped")
        return
    weights = [3 if category.parent.name == "咨询" else 2 for category, _queue in routed]  # type: ignore[union-attr]
    owners: dict[int, int | None] = context.shared["customer_owners"]
    customers = list(
        Customer.objects.filter(pk__in=list(owners))
        .order_by("pk")
        .values_list("pk", "type", "last_cooperation_at")
    )
    contacts = _contacts([pk for pk, _type, _cooperated in customers])
    callers = [pk for pk, _type, _cooperated in customers if contacts.get(pk)]
    caller_weights = [
        CUSTOMER_WEIGHTS.get(type_, 1) for pk, type_, _c in customers if contacts.get(pk)
    ]
    agent_names = {
        user.pk: user.display_name
        for user in User.objects.filter(username__startswith=f"{scale.USERNAME_PREFIX}agent-")
    }
    desk = _Desk(context)
    count = context.scaled(200_000)
    ids = scale.reserve_ids(Ticket, count)
    drawn_callers = rng.choices(callers, weights=caller_weights, k=count) if callers else []
    # Numbered and stored in the order they came in, as a live desk's are: the open tickets,
    # the recent ones, sit together at the end of the table.
    moments = sorted(desk.created_moment() for _index in range(count))
    for index, pk in enumerate(ids):
        category, queue = rng.choices(routed, weights=weights)[0]
        contact = None
        if drawn_callers and rng.random() < 0.92:
            contact = rng.choice(contacts[drawn_callers[index]])
        number = f"{NUMBER_PREFIX}{index + 1:07d}"
        desk.ticket(pk, number, category, queue, contact, agent_names, moments[index])
    desk.announce_all_but(context.scaled(DUE))
    _collaborators(context, desk)
    _nps(context, desk, customers, contacts)
    scale.copy_rows(Ticket, TICKET_COLUMNS, desk.tickets)
    scale.copy_rows(TicketEvent, EVENT_COLUMNS, desk.events)
    scale.copy_rows(TicketMessage, MESSAGE_COLUMNS, desk.messages)
    scale.copy_rows(
        Collaborator,
        ["ticket_id", "user_id", "task", "due_at", "done_at", "added_by_id", "created_at"],
        desk.collaborators,
    )
    scale.copy_rows(
        DelayExplanation, ["ticket_id", "reason", "new_date", "by_id", "created_at"],
        desk.explanations,
    )  # fmt: skip
    scale.copy_rows(Survey, SURVEY_COLUMNS, desk.surveys)
    scale.analyze(Ticket, TicketEvent, TicketMessage, Collaborator, Survey)
    context.log(
        f"{len(desk.tickets)} tickets, {len(desk.events)} events, {len(desk.messages)} messages, "
        f"{len(desk.surveys)} surveys"
    )


def _collaborators(context: scale.ScaleContext, desk: _Desk) -> None:
    """One ticket in fifty asks the customer's sales rep for help."""
    rng = context.random
    owners: dict[int, int | None] = context.shared["customer_owners"]
    names = {
        user.pk: user.display_name
        for user in User.objects.filter(pk__in={owner for owner in owners.values() if owner})
    }
    for ticket in desk.tickets:
        owner = owners.get(ticket[8]) if ticket[8] else None
        if owner is None or ticket[15] is None or rng.random() >= 0.02:
            continue
        asked = ticket[17] + datetime.timedelta(hours=rng.uniform(1, 24))
        if asked > desk.now:
            continue
        due = asked + datetime.timedelta(days=2)
        done = asked + datetime.timedelta(hours=rng.uniform(2, 40))
        task = rng.choice(COLLABORATOR_TASKS)
        desk.collaborators.append([
            ticket[0], owner, task, due, done if done <= desk.now else None, ticket[15], asked,
        ])  # fmt: skip
        desk.event(
            ticket[0],
            Kind.COLLABORATOR,
            ticket[15],
            asked,
            note=desk.collaborating % {"name": names[owner], "task": task},
        )


def _nps(
    context: scale.ScaleContext,
    desk: _Desk,
    customers: list[tuple[int, str, datetime.datetime | None]],
    contacts: dict[int, list[tuple[int, int, str, str, str]]],
) -> None:
    """An NPS survey a week after each won customer's deal, to its first contact with an email;
    those not yet due wait for the survey sweep."""
    rng = context.random
    options = SurveySettings.load()
    delay = datetime.timedelta(days=options.nps_delay_days)
    valid = datetime.timedelta(days=options.nps_valid_days)
    for pk, type_, cooperated in customers:
        if type_ != Customer.Type.WON or cooperated is None:
            continue
        contact = next((row for row in contacts.get(pk, []) if row[4]), None)
        if contact is None:
            continue
        won = min(cooperated, desk.now - datetime.timedelta(days=1))
        send = won + delay
        sent = send if send <= desk.now else None
        answered = send + datetime.timedelta(days=rng.uniform(0.2, 10))
        score = None
        if sent is not None and answered <= desk.now and rng.random() < 0.45:
            score = rng.choices(range(11), weights=NPS_WEIGHTS)[0]
        desk.surveys.append([
            Survey.Kind.NPS, _token(rng), None, pk, contact[0], contact[2], contact[4], None,
            None, send, sent, send + valid if sent else None, score,
            rng.choice(NPS_REASONS) if score is not None else "",
            answered if score is not None else None, won,
        ])  # fmt: skip


# --- the benchmark --------------------------------------------------------------------------------


@scale.prepare
def bench_samples(bench: scale.BenchContext) -> None:
    """A ticket the agent works on (processing, with replies and its log; in a small data set
    any in the agent's queue), and its contact's name to search the queue for, whole and by
    its first two characters."""
    agent: User = bench.users["agent"]
    generated = Ticket.objects.filter(number__startswith=NUMBER_PREFIX).exclude(customer=None)
    ticket = (
        generated.filter(assignee=agent, status=Status.PROCESSING).order_by("pk").first()
        or generated.visible_to(agent).order_by("status", "pk").first()
    )
    if ticket is None:
        raise LookupError("Run `manage.py seed_scale` first: the agent has no tickets.")
    bench.samples.update(
        ticket=ticket.pk,
        ticket_search=ticket.contact_name,
        ticket_search_2=ticket.contact_name[:2],
    )


DESK = ("agent", "supervisor", "analyst")


def _queue(query: str = "") -> Any:
    def url(bench: scale.BenchContext, role: str) -> str:
        return reverse("tickets:list") + (f"?{query.format(**bench.samples)}" if query else "")

    return url


scale.page("ticket queue", "list", roles=DESK, url=_queue())
scale.page("ticket queue: breached", "list", roles=("supervisor",), url=_queue("queue=breached"))
scale.page("ticket queue: closed", "list", roles=("supervisor",), url=_queue("queue=closed"))
scale.page("ticket search", "search", roles=("supervisor",), url=_queue("q={ticket_search}"))
scale.page(
    "ticket search: 2 characters",
    "search",
    roles=("supervisor",),
    url=_queue("q={ticket_search_2}"),
)
scale.page(
    "ticket detail",
    "detail",
    roles=DESK,
    url=lambda bench, role: reverse("tickets:detail", args=[bench.samples["ticket"]]),
)
scale.page(
    "satisfaction",
    "dashboard",
    roles=("supervisor", "analyst"),
    url=lambda bench, role: reverse("tickets:satisfaction"),
)


def _open_every_ticket(bench: scale.BenchContext) -> int:
    """The issue's case for the SLA sweep: reopens the newest closed and awaiting tickets until
    200,000 (per 100,000 customers) run, their passed deadlines counting as announced, so that
    the sweep meets the data set's backlog among them. Runs inside the benchmark's rolled-back
    transaction; returns the number of running tickets."""
    now = timezone.now()
    customers = Customer.objects.filter(number__startswith=scale.CUSTOMER_NUMBER_PREFIX).count()
    wanted = round(OPEN_FOR_THE_SWEEP * customers / scale.BASE_CUSTOMERS)
    wanted -= Ticket.objects.running().count()
    if wanted > 0:
        announced = {
            column: Case(
                When(Q(**{f"{column}__isnull": True, f"{_due(column)}__lte": now}), then=now),
                default=F(column),
            )
            for column in CLAIMS
        }
        newest = Ticket.objects.exclude(status__in=Ticket.RUNNING).order_by("-created_at")
        Ticket.objects.filter(pk__in=newest.values("pk")[:wanted]).update(
            status=Status.PROCESSING, closed_at=None, resolved_at=None, paused_at=None, **announced
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tickets_ticket")
    return Ticket.objects.running().count()


def _due(claim: str) -> str:
    return "first_response_due" if claim.startswith("response") else "resolution_due"


scale.job("SLA sweep", "sweep", run=lambda bench: escalation.sla_sweep(now=timezone.now()))
scale.job(
    "SLA sweep, 200k open tickets",
    "sweep",
    setup=_open_every_ticket,
    run=lambda bench: escalation.sla_sweep(now=timezone.now()),
)
scale.job(
    "surveys: send due",
    "sweep",
    run=lambda bench: surveys.surveys_send_due(now=timezone.now()),
)
