"""The service dashboard: response and resolution medians in working hours, breach rate,
backlog age, CSAT and NPS, against tickets walked through the real services on a Monday."""

import datetime

import pytest
from django.utils import timezone

from analytics import dashboards
from analytics.forms import FilterForm
from tests.tickets.conftest import MONDAY_10, category, make_ticket, monday, queue  # noqa: F401
from tickets import services
from tickets.models import Survey, Ticket, TicketMessage
from tickets.surveys import survey_answer

MARCH = {"period": "custom", "start": "2026-03-01", "end": "2026-03-31"}


def board_for(user, **params):
    dashboard = dashboards.get("service")
    form = FilterForm({**MARCH, **params}, user=user, dimensions=dashboard.dimensions)
    assert form.is_valid(), form.errors
    return dashboard.build(form.scope())


def local(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return MONDAY_10.replace(day=day, hour=hour, minute=minute)


@pytest.fixture
def desk(monday, make_ticket, agent, supervisor):  # noqa: F811
    """Three tickets opened Monday 2 March at 10:00, answered after 1, 3 and 8 working hours
    (11:00; 14:00 across lunch; Tuesday 10:00), and resolved after 2, 4 and 9."""
    tickets = [make_ticket(), make_ticket(), make_ticket(priority=Ticket.Priority.URGENT)]
    answers = [
        (local(2, 11), local(2, 12)),
        (local(2, 14), local(2, 15)),
        (local(3, 10), local(3, 11)),
    ]
    for ticket, (answered, resolved) in zip(tickets, answers, strict=True):
        monday.move_to(answered)
        services.ticket_message_add(
            ticket=ticket, body="已收到", kind=TicketMessage.Kind.REPLY, by=agent
        )
        monday.move_to(resolved)
        services.ticket_move(ticket=ticket, status=Ticket.Status.AWAITING, by=agent)
    monday.move_to(local(4, 10))
    for ticket, score in zip(tickets[:2], (5, 3), strict=True):
        services.ticket_move(ticket=ticket, status=Ticket.Status.CLOSED, by=agent)
        survey = Survey.objects.create(
            kind=Survey.Kind.CSAT,
            ticket=ticket,
            agent=agent,
            sent_at=timezone.now(),
            expires_at=timezone.now() + datetime.timedelta(days=7),
        )
        survey_answer(survey=survey, score=score)
    return tickets


def test_median_and_90th_percentile_response_in_working_hours(desk, supervisor):
    board = board_for(supervisor)
    assert board.kpi("median_response").value == 3.0
    response = board.chart("response")
    by_priority = dict(zip(response.categories, response.series[0].points, strict=True))
    assert by_priority["一般"].value == 2.0  # median of 1 h and 3 h
    assert by_priority["紧急"].value == 8.0
    ninetieth = dict(zip(response.categories, response.series[1].points, strict=True))
    assert ninetieth["一般"].value == 2.8  # 1 h + 0.9 × (3 h − 1 h)


def test_resolution_time_counts_working_hours_until_the_customer_is_asked(desk, supervisor):
    resolution = board_for(supervisor).chart("resolution")
    medians = dict(zip(resolution.categories, resolution.series[0].points, strict=True))
    assert medians["一般"].value == 3.0  # 2 h and 4 h (lunch between 12 and 13 on the second)
    assert medians["紧急"].value == 9.0


def test_volume_breaches_and_satisfaction(desk, supervisor):
    board = board_for(supervisor)
    assert board.kpi("created").value == 3
    assert board.kpi("closed").value == 2
    volume = board.chart("volume")
    created = dict(zip(volume.categories, volume.series[0].points, strict=True))
    closed = dict(zip(volume.categories, volume.series[1].points, strict=True))
    assert created["2026-03-02"].value == 3  # the days are Shanghai's
    assert closed["2026-03-04"].value == 2
    assert sum(point.value for point in volume.series[0].points) == 3
    assert board.kpi("csat").value == 4.0
    assert board.kpi("nps").value is None
    assert board.kpi("breach_rate").value == 0.0


def test_a_group_with_no_answer_yet_has_no_times_but_counts_in_the_volume(
    desk,
    make_ticket,  # noqa: F811
    supervisor,
):
    make_ticket(priority=Ticket.Priority.IMPORTANT)  # created Monday, not answered
    board = board_for(supervisor)
    assert board.kpi("created").value == 4
    assert board.chart("response").categories == ["紧急", "一般"]
    assert board.chart("resolution").categories == ["紧急", "一般"]
    assert board.chart("breaches").categories == ["紧急", "重要", "一般"]
    assert board.kpi("median_response").value == 3.0  # the three answered ones


def test_the_backlog_shows_open_tickets_by_age(desk, supervisor):
    board = board_for(supervisor)
    backlog = board.chart("backlog")
    total = sum(point.value for series in backlog.series for point in series.points)
    assert total == 1  # the urgent one still awaits the customer


def test_an_agent_sees_only_tickets_of_their_queue(desk, charlie, analyst, agent):
    assert board_for(agent).kpi("created").value == 3
    assert board_for(analyst, by="agent").kpi("created").value == 3
    breaches = board_for(analyst, by="agent").chart("breaches")
    assert breaches.categories == [agent.display_name]


def test_response_drill_down_lists_the_measured_tickets(desk, supervisor, client_for):
    response_chart = board_for(supervisor).chart("response")
    point = dict(zip(response_chart.categories, response_chart.series[0].points, strict=True))[
        "一般"
    ]
    response = client_for(supervisor).get(point.url)
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 2
