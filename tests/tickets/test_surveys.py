"""Surveys: CSAT when a ticket closes, NPS a week after a deal is won; single use, expiry,
low scores opening a follow-up task, the send sweep run twice, and the roll-up."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from crm.core import events
from crm.core.models import DomainEvent
from customers.models import Customer, CustomerCategory
from customers.services import customer_create, customer_update
from followups.models import FollowUpTask
from tickets import surveys
from tickets.models import Survey, Ticket, TicketCategory
from tickets.services import ticket_assign, ticket_create, ticket_message_add, ticket_move

NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def customer(alice) -> Customer:
    return customer_create(
        by=alice,
        owner=alice,
        name="杭州示例科技有限公司",
        category=CustomerCategory.objects.get(name="企业客户"),
        contacts=[{"name": "王经理", "email": "wang@example.com", "is_primary": True}],
    )


@pytest.fixture
def ticket(customer, agent, supervisor) -> Ticket:
    ticket = ticket_create(
        customer=customer,
        contact=customer.contacts.get(),
        contact_name="王经理",
        contact_email="wang@example.com",
        category=TicketCategory.objects.get(name="产品使用类"),
        description="如何导出报表？",
        channel=Ticket.Channel.PORTAL,
    )
    ticket_assign(ticket=ticket, assignee=agent, by=supervisor)
    ticket_message_add(ticket=ticket, body="在“报表”页点击导出即可。", kind="reply", by=agent)
    return ticket


def deliver_all() -> None:
    for event_id in DomainEvent.objects.filter(delivered_at__isnull=True).values_list(
        "pk", flat=True
    ):
        events.deliver(event_id)


def close(ticket: Ticket, by) -> Survey:
    ticket_move(ticket=ticket, status=Ticket.Status.CLOSED, by=by)
    deliver_all()
    surveys.surveys_send_due(now=timezone.now())  # the after-commit kick does not run in tests
    return Survey.objects.get(ticket=ticket, expires_at__isnull=False, answered_at=None)


class TestCsat:
    def test_closing_sends_the_result_with_a_survey_link_once(
        self, ticket, agent, django_capture_on_commit_callbacks
    ):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            ticket_move(ticket=ticket, status=Ticket.Status.CLOSED, by=agent)
        with django_capture_on_commit_callbacks(execute=True):
            deliver_all()
        survey = Survey.objects.get(ticket=ticket)
        assert survey.kind == Survey.Kind.CSAT
        assert survey.agent == agent
        assert survey.email == "wang@example.com"
        sent = [message for message in mail.outbox if survey.token in message.body]
        assert len(sent) == 1
        assert "在“报表”页点击导出即可。" in sent[0].body  # the result
        assert f"/survey/{survey.token}/" in sent[0].body
        # The sweep and a redelivered event send nothing more.
        assert surveys.surveys_send_due(now=timezone.now()) == 0
        event = DomainEvent.objects.filter(name="ticket.status_changed").latest("id")
        surveys.on_ticket_status_changed(event)
        assert Survey.objects.filter(ticket=ticket).count() == 1
        assert len([m for m in mail.outbox if survey.token in m.body]) == 1

    def test_a_ticket_closed_again_gets_a_new_survey_and_the_old_link_dies(
        self, ticket, agent, client
    ):
        first = close(ticket, agent)
        surveys.survey_send(survey_id=first.pk)
        ticket_move(ticket=ticket, status=Ticket.Status.PROCESSING, by=agent)
        ticket_move(ticket=ticket, status=Ticket.Status.CLOSED, by=agent)
        deliver_all()
        surveys.surveys_send_due(now=timezone.now())
        assert Survey.objects.filter(ticket=ticket).count() == 2
        assert client.get(reverse("service:survey", args=[first.token])).status_code == 410

    def test_the_customer_rates_once(self, ticket, agent, client):
        survey = close(ticket, agent)
        url = reverse("service:survey", args=[survey.token])
        page = client.get(url)
        assert page.status_code == 200
        assert 'data-testid="survey-score-5"' in page.content.decode()
        response = client.post(url, {"score": "5", "comment": "很及时"})
        assert response.status_code == 302
        survey.refresh_from_db()
        assert (survey.score, survey.comment) == (5, "很及时")
        again = client.post(url, {"score": "1"})
        assert again.status_code == 410
        survey.refresh_from_db()
        assert survey.score == 5

    def test_the_status_page_offers_the_survey(self, ticket, agent, client):
        survey = close(ticket, agent)
        page = client.get(reverse("service:status", args=[ticket.public_token])).content.decode()
        assert reverse("service:survey", args=[survey.token]) in page

    def test_an_out_of_range_score_is_explained(self, ticket, agent, client):
        survey = close(ticket, agent)
        response = client.post(reverse("service:survey", args=[survey.token]), {"score": "6"})
        assert response.status_code == 200
        assert 'data-testid="survey-score-error"' in response.content.decode()
        survey.refresh_from_db()
        assert survey.answered_at is None

    def test_the_link_expires(self, ticket, agent, client):
        survey = close(ticket, agent)
        url = reverse("service:survey", args=[survey.token])
        with time_machine.travel(timezone.now() + datetime.timedelta(days=15)):
            assert client.get(url).status_code == 410
            assert client.post(url, {"score": "4"}).status_code == 410
        survey.refresh_from_db()
        assert survey.answered_at is None

    def test_unknown_or_unsent_tokens_are_404(self, ticket, agent, client, charlie):
        assert client.get(reverse("service:survey", args=["n" * 32])).status_code == 404
        unsent = Survey.objects.create(kind=Survey.Kind.CSAT, ticket=ticket)
        assert client.get(reverse("service:survey", args=[unsent.token])).status_code == 404
        client.force_login(charlie)
        assert client.get(reverse("service:survey", args=["m" * 32])).status_code == 404

    def test_the_thanks_page_needs_an_answered_survey(self, ticket, agent, client):
        survey = close(ticket, agent)
        thanks = reverse("service:survey_thanks", args=[survey.token])
        assert client.get(thanks).status_code == 404
        assert client.get(reverse("service:survey_thanks", args=["t" * 32])).status_code == 404
        surveys.survey_answer(survey=survey, score=5)
        assert client.get(thanks).status_code == 200

    def test_a_low_score_opens_a_task_for_the_supervisor(self, ticket, agent, supervisor):
        survey = close(ticket, agent)
        surveys.survey_answer(survey=survey, score=2, comment="等了太久")
        survey.refresh_from_db()
        task = survey.followup_task
        assert task is not None
        assert task.owner == supervisor
        assert task.customer == ticket.customer
        assert ticket.number in task.title
        assert task.content == "等了太久"
        assert supervisor.notifications.filter(verb="survey_low_score").count() == 1

    def test_a_good_score_opens_nothing(self, ticket, agent):
        survey = close(ticket, agent)
        surveys.survey_answer(survey=survey, score=3)
        assert not FollowUpTask.objects.exists()


class TestNps:
    def test_a_won_customer_is_asked_a_week_later_once(self, customer, manager, alice):
        with time_machine.travel(NOW, tick=False):
            customer_update(customer=customer, by=manager, changes={"type": Customer.Type.WON})
            deliver_all()
        survey = Survey.objects.get(kind=Survey.Kind.NPS)
        assert survey.customer == customer
        assert survey.email == "wang@example.com"
        assert survey.send_after == NOW + datetime.timedelta(days=7)
        assert surveys.surveys_send_due(now=NOW + datetime.timedelta(days=6)) == 0
        mail.outbox.clear()
        later = NOW + datetime.timedelta(days=7, minutes=1)
        assert surveys.surveys_send_due(now=later) == 1
        assert surveys.surveys_send_due(now=later) == 0  # run twice → sent once
        assert len(mail.outbox) == 1
        assert survey.token in mail.outbox[0].body

    def test_other_changes_and_repeated_wins_ask_nothing_more(self, customer, manager):
        customer_update(customer=customer, by=manager, changes={"notes": "x"})
        customer_update(customer=customer, by=manager, changes={"type": Customer.Type.WON})
        customer_update(customer=customer, by=manager, changes={"type": Customer.Type.INTENTION})
        customer_update(customer=customer, by=manager, changes={"type": Customer.Type.WON})
        deliver_all()
        assert Survey.objects.filter(kind=Survey.Kind.NPS).count() == 1

    def test_a_detractor_opens_a_task_for_the_owners_manager(self, customer, manager):
        customer_update(customer=customer, by=manager, changes={"type": Customer.Type.WON})
        deliver_all()
        survey = Survey.objects.get(kind=Survey.Kind.NPS)
        surveys.survey_send(survey_id=survey.pk, now=survey.send_after)
        with time_machine.travel(survey.send_after + datetime.timedelta(hours=1)):
            surveys.survey_answer(survey=survey, score=6, comment="实施周期太长")
        survey.refresh_from_db()
        assert survey.followup_task.owner == manager

    def test_the_nps_page_offers_0_to_10(self, customer, manager, client):
        customer_update(customer=customer, by=manager, changes={"type": Customer.Type.WON})
        deliver_all()
        survey = Survey.objects.get(kind=Survey.Kind.NPS)
        surveys.survey_send(survey_id=survey.pk)
        page = client.get(reverse("service:survey", args=[survey.token])).content.decode()
        assert 'data-testid="survey-score-0"' in page
        assert 'data-testid="survey-score-10"' in page
        client.post(reverse("service:survey", args=[survey.token]), {"score": "10"})
        survey.refresh_from_db()
        assert survey.score == 10


class TestRollup:
    def test_scores_roll_up_per_agent_department_and_month(
        self, agent, service_group, service_department
    ):
        def answered(score, at, kind=Survey.Kind.CSAT, who=agent):
            return Survey.objects.create(
                kind=kind,
                agent=who,
                department=service_department,
                sent_at=at,
                answered_at=at,
                score=score,
            )

        march = datetime.datetime(2026, 3, 10, tzinfo=datetime.UTC)
        april = datetime.datetime(2026, 4, 10, tzinfo=datetime.UTC)
        answered(5, march)
        answered(2, march)
        answered(4, april)
        Survey.objects.create(kind=Survey.Kind.CSAT, agent=agent, sent_at=march)  # unanswered
        by_agent = surveys.score_rollup(Survey.objects.all(), kind="csat", by="agent")
        assert [(row.label, row.answered, row.average, row.low) for row in by_agent] == [
            (agent.display_name, 3, pytest.approx(11 / 3), 1)
        ]
        by_month = surveys.score_rollup(Survey.objects.all(), kind="csat", by="month")
        assert [(row.label, row.answered) for row in by_month] == [("2026-03", 2), ("2026-04", 1)]
        by_department = surveys.score_rollup(Survey.objects.all(), kind="csat", by="department")
        assert [row.label for row in by_department] == ["客服部"]

    def test_nps_is_promoters_minus_detractors(self, db):
        at = datetime.datetime(2026, 3, 10, tzinfo=datetime.UTC)
        for score in (10, 9, 8, 3):
            Survey.objects.create(kind=Survey.Kind.NPS, sent_at=at, answered_at=at, score=score)
        (row,) = surveys.score_rollup(Survey.objects.all(), kind="nps", by="month")
        assert (row.promoters, row.detractors, row.nps) == (2, 1, 25)


class TestSatisfactionPage:
    def make_answers(self, ticket, agent, count):
        for index in range(count):
            Survey.objects.create(
                kind=Survey.Kind.CSAT,
                ticket=ticket,
                customer=ticket.customer,
                agent=agent,
                department=ticket.department,
                sent_at=timezone.now(),
                answered_at=timezone.now(),
                score=1 + index % 5,
            )

    def test_supervisors_see_scores_reps_get_404(
        self, client_for, ticket, agent, supervisor, charlie
    ):
        self.make_answers(ticket, agent, 3)
        response = client_for(supervisor).get(reverse("tickets:satisfaction"))
        assert response.status_code == 200
        assert agent.display_name in response.content.decode()
        assert client_for(charlie).get(reverse("tickets:satisfaction")).status_code == 404

    def test_the_page_costs_a_fixed_number_of_queries(
        self, client_for, ticket, agent, supervisor, django_assert_num_queries
    ):
        client = client_for(supervisor)
        url = reverse("tickets:satisfaction")
        self.make_answers(ticket, agent, 2)
        client.get(url)
        # session, user, roles, team tree (visibility); survey settings; the roll-ups (by
        # agent, department and month in one grouped query); low scores; the shell's
        # unread-notification count. Answered again, the roll-ups come from the cache.
        for count in (2, 10):
            surveys.rollups_changed()  # as an answer does: the next request computes them
            with django_assert_num_queries(NUM_SATISFACTION_QUERIES):
                client.get(url)
            with django_assert_num_queries(NUM_SATISFACTION_QUERIES - 1):
                client.get(url)
            self.make_answers(ticket, agent, count)

    def test_an_answer_renews_the_cached_scores(
        self, client_for, ticket, supervisor, django_capture_on_commit_callbacks
    ):
        client = client_for(supervisor)
        url = reverse("tickets:satisfaction")
        survey = surveys.csat_request(ticket=ticket)
        Survey.objects.filter(pk=survey.pk).update(sent_at=timezone.now())
        assert client.get(url).context["sections"][0][1] == []  # cached, empty

        with django_capture_on_commit_callbacks(execute=True):
            surveys.survey_answer(survey=survey, score=1, comment="等了太久")

        response = client.get(url)
        assert "等了太久" in response.content.decode()
        by_agent = response.context["sections"][0][1]
        assert [(row.answered, row.low) for row in by_agent] == [(1, 1)]


NUM_SATISFACTION_QUERIES = 8


def test_seed_demo_answers_surveys_on_closed_tickets_once(db, settings, client_for):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo")
    csat = Survey.objects.filter(kind=Survey.Kind.CSAT)
    assert csat.count() == Ticket.objects.filter(status=Ticket.Status.CLOSED).count()
    assert csat.filter(score__lte=2).exists()
    assert csat.filter(answered_at__isnull=True).exists()
    assert Survey.objects.filter(kind=Survey.Kind.NPS, score__isnull=False).exists()
    count = Survey.objects.count()
    call_command("seed_demo")
    assert Survey.objects.count() == count
    from crm.accounts.models import User

    page = client_for(User.objects.get(username="supervisor")).get(reverse("tickets:satisfaction"))
    assert User.objects.get(username="agent1").display_name in page.content.decode()
