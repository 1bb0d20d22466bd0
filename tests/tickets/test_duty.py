"""The duty screen: agents go on and off duty, supervisors switch their department's agents."""

import pytest
from django.urls import reverse

from crm.accounts.models import Team
from crm.accounts.roles import Role
from tests.factories import TeamFactory, UserFactory
from tickets.models import QueueAgent, ServiceQueue

pytestmark = pytest.mark.django_db


def test_an_agent_goes_off_duty_and_back(client_for, agent, queue):
    member = QueueAgent.objects.get(user=agent)
    client = client_for(agent)
    assert "duty-member" in client.get(reverse("tickets:duty")).text
    client.post(reverse("tickets:duty_set", args=[member.pk]), {"on_duty": "0"})
    member.refresh_from_db()
    assert member.on_duty is False
    client.post(reverse("tickets:duty_set", args=[member.pk]), {"on_duty": "1"})
    member.refresh_from_db()
    assert member.on_duty is True


def test_a_supervisor_switches_an_agent(client_for, supervisor, agent, agent2):
    member = QueueAgent.objects.get(user=agent2)
    client_for(supervisor).post(reverse("tickets:duty_set", args=[member.pk]), {"on_duty": "0"})
    member.refresh_from_db()
    assert member.on_duty is False


def test_an_agent_cannot_switch_a_colleague(client_for, agent, agent2):
    member = QueueAgent.objects.get(user=agent2)
    response = client_for(agent).post(
        reverse("tickets:duty_set", args=[member.pk]), {"on_duty": "0"}
    )
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.on_duty is True


def test_outsiders_get_403_on_the_screen_and_404_on_members(client_for, charlie, agent, queue):
    member = QueueAgent.objects.get(user=agent)
    other_department = TeamFactory(name="售后部", kind=Team.Kind.DEPARTMENT)
    other_agent = UserFactory(username="other", team=other_department, role=Role.SERVICE_AGENT)
    other_queue = ServiceQueue.objects.create(team=other_department)
    QueueAgent.objects.create(queue=other_queue, user=other_agent)
    assert client_for(charlie).get(reverse("tickets:duty")).status_code == 403
    response = client_for(other_agent).post(
        reverse("tickets:duty_set", args=[member.pk]), {"on_duty": "0"}
    )
    assert response.status_code == 404


def test_the_duty_screen_issues_a_fixed_number_of_queries(
    client_for, supervisor, agent, agent2, django_assert_num_queries
):
    client = client_for(supervisor)
    url = reverse("tickets:duty")
    client.get(url)
    # session, user, groups (roles), team tree (visibility), queues, their members with load
    # and leave, unread notifications badge
    with django_assert_num_queries(7):
        client.get(url)
    UserFactory.create_batch(3, role=Role.SERVICE_AGENT)
    for user in UserFactory.create_batch(3, role=Role.SERVICE_AGENT):
        QueueAgent.objects.create(queue=agent.queue_memberships.get().queue, user=user)
    with django_assert_num_queries(7):
        client.get(url)
