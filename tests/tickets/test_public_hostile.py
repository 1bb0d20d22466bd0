"""Hostile input to the public service endpoints (portal, status link, survey): whatever arrives,
the answer is a 2xx, 3xx or 4xx with a message, never a 500, and what was saved stays intact."""

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tickets.models import Survey, Ticket, TicketCategory, TicketMessage
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db
HOSTILE = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
huge_text = st.builds(
    lambda chunk, times: chunk * times, st.text(min_size=1, max_size=4), st.integers(500, 20_000)
)
texts = st.one_of(
    st.text(),
    huge_text,
    st.sampled_from(["", " ", "\x00", "设备无法开机", "a@b.cn", "<script>alert(1)</script>"]),
)
keys = st.one_of(st.integers(-5, 10**12).map(str), texts)


@pytest.fixture
def unlimited(settings):
    settings.SERVICE_PORTAL_RATE = "100000/m"
    settings.SERVICE_PORTAL_FOLLOW_UP_RATE = "100000/m"


@pytest.fixture
def ticket(db) -> Ticket:
    return ticket_create(
        contact_name="刘洋",
        contact_email="liuyang@example.com",
        category=TicketCategory.objects.get(name="产品使用类"),
        description="如何导出报表？",
        channel=Ticket.Channel.PORTAL,
    )


@HOSTILE
@given(
    category=keys,
    description=texts,
    contact_name=texts,
    contact_phone=texts,
    contact_email=texts,
    honeypot=st.sampled_from(["", "", "", "http://spam.example"]),
)
def test_the_portal_form_never_fails(
    client, unlimited, category, description, contact_name, contact_phone, contact_email, honeypot
):
    before = Ticket.objects.count()
    response = client.post(
        reverse("service:submit"),
        {
            "category": category,
            "description": description,
            "contact_name": contact_name,
            "contact_phone": contact_phone,
            "contact_email": contact_email,
            "website": honeypot,
        },
    )
    assert response.status_code in (200, 302)
    event(f"status {response.status_code}")
    created = Ticket.objects.count() - before
    assert created == (1 if response.status_code == 302 and not honeypot else 0)


@HOSTILE
@given(body=texts, honeypot=st.sampled_from(["", "", "x"]))
def test_the_status_link_never_fails_on_a_message(client, unlimited, ticket, body, honeypot):
    before = TicketMessage.objects.filter(ticket=ticket).count()
    url = reverse("service:add_information", args=[ticket.public_token])
    response = client.post(url, {"body": body, "website": honeypot})
    assert response.status_code in (200, 302, 400)
    event(f"status {response.status_code}")
    added = TicketMessage.objects.filter(ticket=ticket).count() - before
    assert added in (0, 1)
    if response.status_code != 302:
        assert added == 0


@HOSTILE
@given(token=texts)
def test_a_guessed_token_is_a_404(client, ticket, token):
    from django.urls import NoReverseMatch

    try:
        url = reverse("service:status", args=[token])
    except NoReverseMatch:
        return  # not even a path: the resolver refuses it before any view
    response = client.get(url)
    assert response.status_code == (200 if token == ticket.public_token else 404)


@pytest.fixture
def survey(ticket) -> Survey:
    import datetime

    from django.utils import timezone

    return Survey.objects.create(
        kind=Survey.Kind.CSAT,
        ticket=ticket,
        token="hostile-survey-token-0123456789abcdef",
        sent_at=timezone.now(),
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )


@HOSTILE
@given(score=keys, comment=texts)
def test_the_survey_never_fails_and_is_answered_at_most_once(
    client, unlimited, survey, score, comment
):
    response = client.post(
        reverse("service:survey", args=[survey.token]), {"score": score, "comment": comment}
    )
    assert response.status_code in (200, 302, 410)
    event(f"status {response.status_code}")
    survey.refresh_from_db()
    if response.status_code == 302:
        assert survey.score == int(score)
        assert 1 <= survey.score <= 5
