"""The scale data set and the benchmark, at a small size."""

import itertools
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.utils import timezone

from crm.accounts.models import Team, User
from crm.core.crypto import decrypt
from crm.core.phones import phone_index, validate_phone
from crm.notifications.models import Notification
from customers.models import Contact, Customer, CustomerCategory
from followups.models import FollowUpRecord, FollowUpTask
from opportunities.models import Instalment, Opportunity, Order, Receipt, Stage, StageVisit
from tickets.models import Survey, Ticket, TicketEvent

pytestmark = pytest.mark.django_db
# The data set loads with COPY: on another database the command says so and stops (the last
# test below).
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="seed_scale loads with COPY: Postgres only"
)


def _seed(**options: object) -> None:
    call_command("seed_scale", customers=200, stdout=open("/dev/null", "w"), **options)  # noqa: SIM115


@postgres_only
def test_seed_scale_builds_a_repeatable_data_set():
    _seed(seed=7)
    assert User.objects.count() == 50
    assert Team.objects.filter(name="销售一组", parent__name="华东大区").exists()
    assert Customer.objects.count() == 200
    assert not Customer.objects.exclude(number__startswith="SC").exists()
    contacts = Contact.objects.count()
    assert 300 <= contacts <= 600
    assert Contact.objects.filter(is_primary=True).count() == 200
    contact = Contact.objects.exclude(phone="").first()
    validate_phone(contact.phone)  # decrypted by the field
    assert contact.phone_index == phone_index(contact.phone)
    assert contact.phone_last4 == contact.phone[-4:]
    assert FollowUpRecord.objects.count() > 500
    assert FollowUpTask.objects.filter(status=FollowUpTask.Status.PENDING).exists()
    names = list(Customer.objects.order_by("number").values_list("name", flat=True))

    _seed(seed=7)  # a second run replaces the data set with the same one
    assert Customer.objects.count() == 200
    assert list(Customer.objects.order_by("number").values_list("name", flat=True)) == names

    _seed(seed=8)
    assert list(Customer.objects.order_by("number").values_list("name", flat=True)) != names


@postgres_only
def test_seed_scale_builds_the_pipeline_with_its_history():
    _seed()
    opportunities = Opportunity.objects.all()
    assert 60 <= opportunities.count() <= 160
    kinds = set(opportunities.values_list("stage__kind", flat=True))
    assert {Stage.Kind.OPEN, Stage.Kind.LOST} <= kinds
    assert kinds & {Stage.Kind.WON, Stage.Kind.COLLECTED}
    # Each opportunity's stays form one chain ending in its stage.
    for opportunity in opportunities.filter(stage__kind=Stage.Kind.LOST)[:5]:
        visits = list(opportunity.stage_visits.order_by("entered_at", "pk"))
        assert visits[-1].stage_id == opportunity.stage_id
        assert visits[-1].left_at is None
        assert all(visit.left_at == later.entered_at for visit, later in itertools.pairwise(visits))
    assert not opportunities.filter(stage__kind=Stage.Kind.LOST, lost_reason=None).exists()
    assert StageVisit.objects.filter(left_at=None).count() == opportunities.count()
    orders = Order.objects.all()
    assert orders.count() == opportunities.filter(stage__kind__in=["won", "collected"]).count()
    assert orders.filter(number__startswith="SCSO").count() == orders.count()
    assert Instalment.objects.count() >= orders.count()
    assert Receipt.objects.exists()
    for order in orders.prefetch_related("instalments")[:10]:
        assert sum(instalment.amount for instalment in order.instalments.all()) == order.amount
        assert order.customer.type in {Customer.Type.WON, Customer.Type.LOST}


@postgres_only
def test_seed_scale_runs_tickets_through_their_course():
    _seed()
    tickets = Ticket.objects.all()
    assert tickets.count() == 400  # 200,000 per 100,000 customers
    assert not tickets.exclude(number__startswith="SCGW").exists()
    statuses = set(tickets.values_list("status", flat=True))
    assert Ticket.Status.CLOSED in statuses
    assert statuses & set(Ticket.RUNNING)
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.CREATED).count() == 400
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA_BREACH).exists()
    closed = tickets.filter(status=Ticket.Status.CLOSED)
    assert not closed.filter(closed_at=None).exists()
    assert not closed.filter(first_responded_at=None).exists()
    assert not tickets.filter(first_responded_at__lt=models.F("created_at")).exists()
    # Deadlines on the business calendar: never before the ticket came in.
    assert not tickets.filter(first_response_due__lte=models.F("created_at")).exists()
    months = tickets.dates("created_at", "month")
    assert len(months) >= 12
    # A live desk's backlog: a few unannounced breaches among the running tickets, not all.
    running = tickets.filter(status__in=Ticket.RUNNING)
    due = running.filter(resolution_breached_at=None, resolution_due__lte=timezone.now())
    assert due.count() < running.filter(resolution_due__lte=timezone.now()).count() or not due
    answered = Survey.objects.filter(kind=Survey.Kind.CSAT, score__isnull=False)
    assert answered.exists()
    assert not answered.exclude(ticket__status=Ticket.Status.CLOSED).exists()
    assert Survey.objects.filter(kind=Survey.Kind.NPS).exists()


@postgres_only
def test_seed_scale_fills_the_inboxes():
    _seed()
    inbox = Notification.objects.filter(recipient__username__startswith="scale-")
    count = inbox.count()
    assert count >= 50  # every user has some
    assert set(inbox.values_list("recipient", flat=True)) == set(
        User.objects.values_list("pk", flat=True)
    )
    _seed()  # a second run replaces them
    assert inbox.count() == count


@postgres_only
def test_seed_scale_stores_phones_encrypted():
    _seed()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM customers_contact WHERE phone <> '' LIMIT 1")
        stored = cursor.fetchone()[0]
    assert stored.startswith("enc1:")
    validate_phone(decrypt(stored))


@postgres_only
def test_seed_scale_refuses_a_database_with_real_data_unless_forced():
    real = Customer.objects.create(
        number="C20260101001", name="真实客户有限公司", category=CustomerCategory.objects.first()
    )
    with pytest.raises(CommandError, match="did not generate"):
        _seed()
    assert Customer.objects.count() == 1

    _seed(force=True)
    assert Customer.objects.count() == 201
    _seed(force=True)  # replaces only what it generated
    assert Customer.objects.count() == 201
    assert Customer.objects.filter(pk=real.pk).exists()


@postgres_only
def test_bench_measures_every_page_and_job(tmp_path):
    _seed()
    call_command(
        "bench",
        requests=2,
        warmup=1,
        import_rows=30,
        output=str(tmp_path),
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )
    report = json.loads((tmp_path / "latest.json").read_text())
    pages = {(row["page"], row["role"]): row for row in report["pages"]}
    assert ("customer list", "rep") in pages
    assert ("customer search: phone last 4", "manager") in pages
    assert ("calendar", "rep") in pages
    assert ("sales dashboard", "manager") in pages
    assert ("service dashboard", "agent") in pages
    assert ("automation dashboard, cached", "analyst") in pages
    assert all(row["status"] == 200 for row in report["pages"]), report["pages"]
    # The limit: 15 queries a page (the customer page's panels load after it).
    limits: dict[str, int] = {}
    too_many = [
        (row["page"], row["role"], row["queries"])
        for row in report["pages"]
        if row["queries"] > limits.get(row["page"], 15)
    ]
    assert too_many == [], too_many
    for page in ("pipeline board", "opportunity detail", "forecast"):
        assert (page, "manager") in pages
    for page in ("ticket queue", "ticket detail"):
        assert (page, "agent") in pages
        assert (page, "supervisor") in pages
    panels = [row for row in report["pages"] if row["page"].startswith("customer panel")]
    assert {row["page"] for row in panels} == {
        "customer panel: followups",
        "customer panel: opportunities",
        "customer panel: tickets",
    }
    jobs = {row["job"]: row for row in report["jobs"]}
    assert jobs["customer import"]["result"] == 30
    assert "reminders: before tasks" in jobs
    assert jobs["SLA sweep"]["second_run_result"] == 0
    # A sweep is timed after a first run, rolled back, that loaded what it needs.
    assert jobs["SLA sweep"]["first_run_seconds"] is not None
    assert jobs["SLA sweep"]["result"] > 0
    assert jobs["customer import"]["first_run_seconds"] is None
    # The case: 200,000 open tickets per 100,000 customers, the sweep finding its few.
    assert jobs["SLA sweep, 200k open tickets"]["setup_result"] == 400
    assert "opportunities: stale in stage" in jobs
    # The case for reminders: a thousand overdue per 100,000 customers, all sent at once.
    overdue = jobs["reminders: overdue tasks, 1,000 due"]
    assert overdue["setup_result"] == 2
    assert overdue["result"] == 2
    assert overdue["second_run_result"] == 0
    # Everything the jobs wrote was rolled back.
    assert Customer.objects.count() == 200
    assert Ticket.objects.filter(status__in=Ticket.RUNNING).count() < 400


def test_bench_needs_the_data_set():
    with pytest.raises(CommandError, match="seed_scale"):
        call_command("bench", requests=1, warmup=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
