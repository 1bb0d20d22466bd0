"""The service desk's URLs (queues, the ticket and its actions) and its public endpoints (the
portal's status link, the surveys).

The world's ticket belongs to a customer of charlie's (not alice's: see ``build``), sits in
the service department's queue and is assigned to the agent: the agent and the supervisor work
on it, the analyst reads it, and the sales line (the customer's owner included: tickets are the
desk's) gets a 404. The public endpoints answer whoever holds the token, signed in or not; a
wrong token is a 404 (tests/tickets/test_portal.py and test_surveys.py pin that).
"""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from crm.accounts.models import Team
from customers.models import CustomerCategory
from customers.services import customer_create
from tests.factories import TeamFactory, UserFactory
from tests.security.matrix import (
    FORBIDDEN,
    LOGIN,
    NOT_FOUND,
    OK,
    PUBLIC,
    REFUSED,
    ROLES,
    SIGNED_IN,
    Entry,
)
from tickets import services
from tickets.intake import customer_files_attach
from tickets.models import QueueAgent, ServiceQueue, Ticket, TicketCategory, TicketMessage
from tickets.surveys import csat_request, survey_answer, survey_send

ORDER = 30  # after customers (10)

INTERNAL_NOTE = "矩阵内部备注：勿告知客户的返修成本"


def build(world):  # type: ignore[no-untyped-def]
    agent = world.users["agent"]
    department = agent.team.parent
    queue = ServiceQueue.objects.create(team=department)
    world.queue_member = QueueAgent.objects.create(queue=queue, user=agent, sort_order=1)
    consultation = TicketCategory.objects.get(name="咨询", parent=None)
    consultation.queue = queue
    consultation.save(update_fields=["queue"])
    # The service customer is charlie's (team B): the desk shows agents the customer's name
    # and contacts (SPEC: "customer contact read-only"), and the probe counts the agent and
    # the supervisor among the outsiders who must never see alice's customer (world.secrets).
    charlie = world.users["charlie"]
    world.service_customer = customer_create(
        by=charlie,
        owner=charlie,
        name="报修探针仪器有限公司",
        category=CustomerCategory.objects.get(name="企业客户"),
        contacts=[{"name": "报修联系人", "phone": "13712345678", "email": "repair@example.cn"}],
    )
    contact = world.service_customer.contacts.get()
    world.ticket = ticket = services.ticket_create(
        customer=world.service_customer,
        contact=contact,
        contact_name=contact.name,
        contact_email=contact.email,
        category=TicketCategory.objects.get(name="产品使用类", parent=consultation),
        subject="矩阵探针工单",
        description="矩阵探针：设备无法开机",
        channel=Ticket.Channel.PHONE,
        by=agent,
    )
    assert ticket.assignee == agent, "dispatch should hand the ticket to the agent on duty"
    reply = services.ticket_message_add(
        ticket=ticket, body="矩阵公开答复：已安排上门", kind=TicketMessage.Kind.REPLY, by=agent
    )
    note = services.ticket_message_add(
        ticket=ticket, body=INTERNAL_NOTE, kind=TicketMessage.Kind.NOTE, by=agent
    )
    engineering = TeamFactory(name="技术部", kind=Team.Kind.DEPARTMENT)
    world.collaborator = services.collaborator_add(
        ticket=ticket,
        user=UserFactory(username="engineer", team=engineering),
        task="矩阵协作：确认备件",
        due_at=timezone.now() + datetime.timedelta(days=2),
        by=agent,
    )
    # The customer's own file, filed as the portal files it: the status link serves only these.
    (world.ticket_file,), _refused = customer_files_attach(
        ticket=ticket,
        uploads=[SimpleUploadedFile("故障照片.txt", "探针".encode(), content_type="text/plain")],
    )
    # Two CSAT surveys: one answered (its thanks page), then an open one (the survey page).
    answered = csat_request(ticket=ticket)
    survey_send(survey_id=answered.pk)
    world.answered_survey = survey_answer(survey=answered, score=5, comment="矩阵评价")
    world.survey = csat_request(ticket=ticket)
    survey_send(survey_id=world.survey.pk)
    world.survey.refresh_from_db()
    world.records += [
        world.service_customer,
        contact,
        ticket,
        reply,
        note,
        world.collaborator,
        world.ticket_file,
        world.answered_survey,
        world.survey,
        *ticket.events.all(),
    ]
    # Nothing of the ticket joins world.secrets: the agent and the supervisor (outsiders of
    # team A's sales line) work on it, and its token shows its public part to anyone. The
    # internal note is a secret of the public pages only: see ``public_ticket``.


def ticket(world):  # type: ignore[no-untyped-def]
    return {"pk": world.ticket.pk}


def public_ticket(world):  # type: ignore[no-untyped-def]
    """The status link; on these probes the internal note is a secret from everyone (the world
    is built afresh for each probe, so this scopes the secret to the public pages)."""
    world.secrets.append(INTERNAL_NOTE)
    return {"token": world.ticket.public_token}


# Service staff: the agent and the supervisor; sales and analysts are refused the desk's tools.
DESK = {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "agent": OK, "supervisor": OK}
# The ticket: its agent and supervisor, the analyst reads; the sales line does not see it.
TICKET = {**DESK, **dict.fromkeys(["charlie", "bob", "manager", "alice"], NOT_FOUND)}
TICKET_READ = {**TICKET, "analyst": OK}
TICKET_WORK = {**TICKET, "analyst": FORBIDDEN}
TICKET_DISPATCH = {**TICKET_WORK, "agent": FORBIDDEN}
# The portal allows 5 submissions a minute from one address: the probe's 6th POST is throttled.
SUBMIT_THROTTLED = {role: OK if index < 5 else REFUSED for index, role in enumerate(ROLES)}

ENTRIES = {
    "tickets:list": Entry(get=SIGNED_IN, note="everyone's queue is their visible tickets"),
    "tickets:create": Entry(get=DESK, post=DESK),
    "tickets:intake_search": Entry(get=DESK, query=lambda world: "?q=报修探针"),
    "tickets:intake_pick": Entry(
        get=DESK, query=lambda world: f"?customer={world.service_customer.pk}"
    ),
    "tickets:bulk_assign": Entry(
        post={**DESK, "agent": FORBIDDEN, "manager": OK},
        post_data=lambda world: {
            "tickets": world.ticket.pk,
            "assignee": world.users["agent"].pk,
        },
        note="team heads dispatch within their own scope: the manager's form offers no ticket",
    ),
    "tickets:duty": Entry(get=DESK),
    "tickets:duty_set": Entry(
        kwargs=lambda world: {"member_pk": world.queue_member.pk},
        post={**TICKET_WORK},
        post_data=lambda world: {"on_duty": "1"},
        note="an agent switches themselves, the supervisor their department's queues",
    ),
    "tickets:satisfaction": Entry(
        get={
            **dict.fromkeys(ROLES, NOT_FOUND),
            "anonymous": LOGIN,
            "supervisor": OK,
            "analyst": OK,
            "manager": OK,
        },
        note="roles without the report do not learn it exists (404, as tests/tickets pins)",
    ),
    "tickets:detail": Entry(kwargs=ticket, get=TICKET_READ),
    "tickets:take": Entry(kwargs=ticket, post=TICKET_WORK),
    "tickets:move": Entry(
        kwargs=ticket, post=TICKET_WORK, post_data=lambda world: {"status": "awaiting"}
    ),
    "tickets:message": Entry(
        kwargs=ticket,
        post=TICKET_WORK,
        post_data=lambda world: {"kind": "note", "body": "矩阵探针备注"},
    ),
    "tickets:assign": Entry(
        kwargs=ticket,
        post=TICKET_DISPATCH,
        post_data=lambda world: {"assignee": world.users["agent"].pk},
    ),
    "tickets:redispatch": Entry(kwargs=ticket, post=TICKET_DISPATCH),
    "tickets:priority": Entry(
        kwargs=ticket, post=TICKET_WORK, post_data=lambda world: {"priority": "important"}
    ),
    "tickets:collaborator_add": Entry(
        kwargs=ticket,
        post=TICKET_WORK,
        post_data=lambda world: {
            "user": world.users["supervisor"].pk,
            "task": "矩阵协作",
            "due_at": (timezone.localtime() + datetime.timedelta(days=1)).strftime(
                "%Y-%m-%d %H:%M"
            ),
        },
    ),
    "tickets:collaborator_done": Entry(
        kwargs=lambda world: {"pk": world.ticket.pk, "collaborator_pk": world.collaborator.pk},
        post=TICKET_WORK,
    ),
    "tickets:delay": Entry(kwargs=ticket, post=TICKET_WORK, note="empty form: refused first"),
    "service:submit": Entry(
        get=PUBLIC,
        post=SUBMIT_THROTTLED,
        note="an empty form is shown again; the 6th POST a minute from one address gets 429",
    ),
    "service:received": Entry(get=PUBLIC),
    "service:status": Entry(kwargs=public_ticket, get=PUBLIC),
    "service:add_information": Entry(
        kwargs=public_ticket,
        post=PUBLIC,
        post_data=lambda world: {"body": "矩阵补充信息"},
    ),
    "service:confirm": Entry(
        kwargs=public_ticket,
        post=dict.fromkeys(ROLES, REFUSED),
        note="the ticket is not awaiting confirmation: 400 for whoever holds the link",
    ),
    "service:file": Entry(
        kwargs=lambda world: {"token": world.ticket.public_token, "pk": world.ticket_file.pk},
        get=PUBLIC,
    ),
    "service:survey": Entry(
        kwargs=lambda world: {"token": world.survey.token},
        get=PUBLIC,
        post={**dict.fromkeys(ROLES, REFUSED), "anonymous": OK},
        post_data=lambda world: {"score": "4", "comment": "矩阵"},
        note="one answer per survey: once answered the link is gone (410)",
    ),
    "service:survey_thanks": Entry(
        kwargs=lambda world: {"token": world.answered_survey.token}, get=PUBLIC
    ),
}
