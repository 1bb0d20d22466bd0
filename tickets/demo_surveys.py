"""Demo surveys: answers on most closed demo tickets (mostly 4–5 stars, a few low ones with a
comment) and NPS answers from won customers, so the satisfaction page shows a real year.

Repeatable (``random.Random(2026)``) and added once: nothing happens when surveys exist.
"""

from __future__ import annotations

import datetime
import random

from django.db import transaction

from crm.core import demo
from customers.models import Customer
from tickets.models import Survey, SurveySettings, Ticket

SEED = 2026
LOW_COMMENTS = ["处理太慢，等了好几天。", "问题没有真正解决。", "客服态度一般。"]
GOOD_COMMENTS = ["", "", "响应很及时，谢谢！", "工程师很专业。"]
NPS_REASONS = ["", "产品稳定，服务到位。", "价格偏高。", "实施周期较长。"]


@demo.register(55, "service surveys")
@transaction.atomic
def seed_surveys() -> None:
    if Survey.objects.exists():
        return
    rng = random.Random(SEED)  # noqa: S311 - repeatable demo data, not secrets
    options = SurveySettings.load()
    surveys = [
        _csat(ticket, rng, options.csat_valid_days)
        for ticket in Ticket.objects.filter(status=Ticket.Status.CLOSED, closed_at__isnull=False)
        .select_related("assignee")
        .order_by("pk")
    ]
    won = Customer.objects.filter(type=Customer.Type.WON).prefetch_related("contacts")
    surveys += [survey for customer in won if (survey := _nps(customer, rng)) is not None]
    Survey.objects.bulk_create(surveys, batch_size=500)


def _csat(ticket: Ticket, rng: random.Random, valid_days: int) -> Survey:
    sent = ticket.closed_at or ticket.created_at
    answered = rng.random() < 0.7
    score = rng.choices([5, 4, 3, 2, 1], weights=[50, 30, 10, 6, 4])[0]
    comment = rng.choice(LOW_COMMENTS if score <= 2 else GOOD_COMMENTS)
    return Survey(
        kind=Survey.Kind.CSAT,
        ticket=ticket,
        customer_id=ticket.customer_id,
        contact_id=ticket.contact_id,
        recipient_name=ticket.contact_name,
        email=ticket.contact_email,
        agent=ticket.assignee,
        department_id=ticket.department_id,
        send_after=sent,
        sent_at=sent,
        expires_at=sent + datetime.timedelta(days=valid_days),
        score=score if answered else None,
        comment=comment if answered else "",
        answered_at=sent + datetime.timedelta(hours=rng.randint(1, 48)) if answered else None,
        created_at=sent,
    )


def _nps(customer: Customer, rng: random.Random) -> Survey | None:
    contact = next((c for c in customer.contacts.all() if c.email), None)
    if contact is None:
        return None
    sent = customer.created_at + datetime.timedelta(days=7)
    score = rng.choices(range(11), weights=[1, 1, 1, 1, 2, 3, 4, 6, 10, 12, 10])[0]
    return Survey(
        kind=Survey.Kind.NPS,
        customer=customer,
        contact=contact,
        recipient_name=contact.name,
        email=contact.email,
        send_after=sent,
        sent_at=sent,
        expires_at=sent + datetime.timedelta(days=30),
        score=score,
        comment=rng.choice(NPS_REASONS),
        answered_at=sent + datetime.timedelta(days=1),
        created_at=sent,
    )
