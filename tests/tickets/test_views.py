"""The desk screens: queues, intake, the ticket and its actions. Scope (charlie gets 404 on
every ticket URL) and pinned query counts."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Contact, CustomerCategory
from customers.services import customer_create
from tickets import services
from tickets.models import QueueAgent, Ticket, TicketMessage

pytestmark = pytest.mark.django_db

ACTIONS = [
    ("tickets:take", {}),
    ("tickets:move", {"status": "processing"}),
    ("tickets:message", {"kind": "reply", "body": "你好"}),
    ("tickets:assign", {"assignee": "0"}),
    ("tickets:redispatch", {}),
    ("tickets:priority", {"priority": "urgent"}),
    ("tickets:collaborator_add", {"task": "x", "due_at": "2030-01-01T10:00"}),
    ("tickets:delay", {"reason": "x", "new_date": "2030-01-01"}),
]


@pytest.fixture
def ticket(monday, make_ticket):
    return make_ticket()


def test_charlie_gets_404_on_every_ticket_url(client_for, charlie, ticket, agent):
    collaborator = services.collaborator_add(
        ticket=ticket,
        user=agent.__class__.objects.create(username="helper"),
        task="核对账单",
        due_at=ticket.resolution_due,
        by=agent,
    )
    client = client_for(charlie)
    assert client.get(reverse("tickets:detail", args=[ticket.pk])).status_code == 404
    for name, data in ACTIONS:
        response = client.post(reverse(name, args=[ticket.pk]), data)
        assert response.status_code == 404, name
    done = reverse("tickets:collaborator_done", args=[ticket.pk, collaborator.pk])
    assert client.post(done).status_code == 404


def test_a_sales_rep_cannot_open_the_intake(client_for, charlie):
    client = client_for(charlie)
    assert client.get(reverse("tickets:create")).status_code == 403
    assert client.get(reverse("tickets:intake_search"), {"q": "杭州"}).status_code == 403


def test_the_queue_list_shows_only_what_the_user_may_see(client_for, charlie, ticket, agent):
    assert ticket.number not in client_for(charlie).get(reverse("tickets:list")).text
    response = client_for(agent).get(reverse("tickets:list"))
    assert ticket.number in response.text


def make_many(make_ticket, count):
    for index in range(count):
        make_ticket(description=f"问题{index}", priority="urgent" if index % 2 else "normal")


def fill_every_tab(make_ticket, supervisor):
    """New urgent tickets are near their deadline ("soon"); one of each other tab besides."""
    mine, unassigned, closed, breached = (make_ticket(priority="urgent") for _ in range(4))
    Ticket.objects.filter(pk=mine.pk).update(assignee=supervisor)
    Ticket.objects.filter(pk=unassigned.pk).update(assignee=None)
    Ticket.objects.filter(pk=closed.pk).update(
        status=Ticket.Status.CLOSED, closed_at=timezone.now()
    )
    Ticket.objects.filter(pk=breached.pk).update(
        first_response_due=timezone.now() - datetime.timedelta(minutes=5)
    )


@pytest.mark.parametrize("tab", ["mine", "queue", "unassigned", "soon", "breached", "closed"])
def test_queue_pages_issue_a_fixed_number_of_queries(
    client_for, supervisor, agent, monday, make_ticket, django_assert_num_queries, tab
):
    client = client_for(supervisor)
    url = reverse("tickets:list") + f"?queue={tab}"
    fill_every_tab(make_ticket, supervisor)
    client.get(url)
    # session, user, groups (roles), team tree (visibility), widest warning threshold, open
    # tabs' counts, closed count (up to 1,000), rows (the tab's count is the pages'),
    # unread notifications badge, service staff for bulk assignment
    with django_assert_num_queries(10):
        client.get(url)
    fill_every_tab(make_ticket, supervisor)
    make_many(make_ticket, 8)
    with django_assert_num_queries(10):
        response = client.get(url + "&page=2")
    assert response.status_code == 200


def test_the_queue_pages_through_a_tab_by_its_count(
    client_for, supervisor, make_ticket, monday, monkeypatch
):
    from tickets import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    make_many(make_ticket, 5)
    client = client_for(supervisor)
    shown = []
    for page in (1, 2, 3):
        html = client.get(reverse("tickets:list"), {"queue": "queue", "page": page}).text
        assert f"第 {page} / 3 页" in html
        shown += [n for n in Ticket.objects.values_list("number", flat=True) if n in html]
    assert sorted(shown) == sorted(Ticket.objects.values_list("number", flat=True))
    # Past the last page, the last page; a search pages by its own count.
    assert "第 3 / 3 页" in client.get(reverse("tickets:list"), {"page": 9}).text
    assert "/ 3 页" not in client.get(reverse("tickets:list"), {"q": "问题1"}).text


def test_the_closed_count_stops_at_a_thousand(
    client_for, supervisor, make_ticket, monday, monkeypatch
):
    from tickets import views

    monkeypatch.setattr(views, "CLOSED_COUNTED", 3)  # "2+" beyond two
    client = client_for(supervisor)
    badge = 'data-testid="queue-count-closed">'
    for shown in ("1", "2", "2+"):
        Ticket.objects.filter(pk=make_ticket().pk).update(status=Ticket.Status.CLOSED)
        assert f"{badge}{shown}<" in client.get(reverse("tickets:list")).content.decode()
    # The tab pages through the three it counted, and says where the rest are.
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    url = reverse("tickets:list") + "?queue=closed"
    assert 'data-testid="closed-cap"' not in client.get(url).text
    assert "找到更早的" in client.get(url + "&page=2").text


def test_the_htmx_refresh_renders_the_queue_alone(client_for, agent, ticket):
    response = client_for(agent).get(reverse("tickets:list"), HTTP_HX_REQUEST="true")
    assert "<html" not in response.text
    assert ticket.number in response.text


def test_breached_tickets_are_highlighted(client_for, supervisor, ticket, monday):
    monday.move_to(ticket.first_response_due + datetime.timedelta(minutes=1))
    response = client_for(supervisor).get(reverse("tickets:list") + "?queue=breached")
    assert 'data-breached="true"' in response.text
    assert ticket.number in response.text


def test_the_detail_issues_a_fixed_number_of_queries(
    client_for, agent, ticket, django_assert_num_queries
):
    client = client_for(agent)
    url = reverse("tickets:detail", args=[ticket.pk])
    for index in range(2):
        services.ticket_message_add(ticket=ticket, body=f"回复{index}", kind="reply", by=agent)
    client.get(url)  # warm the session and the cached dropdowns
    # session, user, roles, team tree (visibility); the ticket; the team tree again (is the
    # agent a head?); its messages, their files, its log; desk settings (delay rule); unread
    # badge; the ticket's files; collaborators; explanations. The assignee and collaborator
    # dropdowns come from the cache.
    with django_assert_num_queries(14):
        client.get(url)
    for index in range(6):
        services.ticket_message_add(ticket=ticket, body=f"备注{index}", kind="note", by=agent)
    with django_assert_num_queries(14):
        client.get(url)


def test_the_assignee_is_preselected_for_the_supervisor(client_for, supervisor, agent, ticket):
    services.ticket_assign(ticket=ticket, assignee=agent, by=supervisor)
    client = client_for(supervisor)
    client.get(ticket.get_absolute_url())  # the dropdown now comes from the cache

    html = client.get(ticket.get_absolute_url()).content.decode()

    assert f'<option value="{agent.pk}" selected>' in html


def test_an_agent_takes_replies_and_resolves(client_for, agent, queue, make_ticket, monday):
    QueueAgent.objects.filter(queue=queue).update(on_duty=False)
    ticket = make_ticket()
    client = client_for(agent)
    client.post(reverse("tickets:take", args=[ticket.pk]))
    response = client.post(
        reverse("tickets:message", args=[ticket.pk]),
        {"kind": "reply", "body": "已为您安排工程师"},
        follow=True,
    )
    assert "已为您安排工程师" in response.text
    client.post(reverse("tickets:move", args=[ticket.pk]), {"status": "awaiting"})
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    assert ticket.status == Ticket.Status.AWAITING
    assert ticket.messages.get().kind == TicketMessage.Kind.REPLY


def test_a_refused_move_is_a_message_not_an_error(client_for, agent, ticket):
    response = client_for(agent).post(
        reverse("tickets:move", args=[ticket.pk]), {"status": "awaiting"}, follow=True
    )
    assert response.status_code == 200
    assert "工单不能从" in response.text


def test_an_empty_reply_is_refused_with_a_message(client_for, agent, ticket):
    response = client_for(agent).post(
        reverse("tickets:message", args=[ticket.pk]), {"kind": "reply", "body": " "}, follow=True
    )
    assert response.status_code == 200
    assert not ticket.messages.exists()


def test_an_agent_logs_a_call_with_a_new_contact(client_for, agent, category, alice, monday):
    customer = customer_create(
        by=alice,
        owner=alice,
        name="杭州示例科技有限公司",
        category=CustomerCategory.objects.get(name="企业客户"),
    )
    client = client_for(agent)
    found = client.get(reverse("tickets:intake_search"), {"q": "杭州示例"})
    assert "杭州示例科技有限公司" in found.text
    picked = client.get(reverse("tickets:intake_pick"), {"customer": customer.pk})
    assert "杭州示例科技有限公司" in picked.text
    response = client.post(
        reverse("tickets:create"),
        {
            "customer": customer.pk,
            "contact": "",
            "contact_name": "李经理",
            "contact_phone": "13900001111",
            "contact_email": "li@example.com",
            "channel": "phone",
            "category": category.pk,
            "priority": "",
            "subject": "",
            "description": "打印机卡纸",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == ticket.get_absolute_url()
    assert ticket.customer == customer
    assert ticket.contact == Contact.objects.get(customer=customer, name="李经理")
    assert ticket.channel == "phone"
    assert ticket.created_by == agent


def test_the_intake_form_explains_what_is_missing(client_for, agent, category):
    response = client_for(agent).post(
        reverse("tickets:create"), {"channel": "phone", "category": category.pk}
    )
    assert response.status_code == 200
    assert "请选择联系人或填写来电人姓名" in response.text
    assert not Ticket.objects.exists()


def test_the_queue_searches_number_subject_contact_and_customer(
    client_for, supervisor, alice, make_ticket, monday
):
    customer = customer_create(
        by=alice,
        owner=alice,
        name="宁波海纳电子有限公司",
        category=CustomerCategory.objects.get(name="企业客户"),
    )
    by_customer = make_ticket(customer=customer, contact_name="赵女士")
    by_subject = make_ticket(subject="打印机卡纸", contact_name="钱先生")
    other = make_ticket(contact_name="孙先生")
    client = client_for(supervisor)

    def found(text: str) -> set[str]:
        html = client.get(reverse("tickets:list"), {"q": text}).content.decode()
        return {
            number for number in Ticket.objects.values_list("number", flat=True) if number in html
        }

    assert found("海纳电子") == {by_customer.number}
    assert found("打印机") == {by_subject.number}
    assert found("孙先生") == {other.number}
    assert found(other.number.lower()) == {other.number}
    # Shorter than a trigram (crm.core.search): two characters, one.
    assert found("海纳") == {by_customer.number}
    assert found("卡纸") == {by_subject.number}
    assert found("先生") == {by_subject.number, other.number}
    assert found("孙") == {other.number}


def test_a_supervisor_bulk_assigns(client_for, supervisor, agent, agent2, make_ticket, monday):
    tickets = [make_ticket() for _ in range(3)]
    client = client_for(supervisor)
    client.post(
        reverse("tickets:bulk_assign"),
        {"tickets": [ticket.pk for ticket in tickets], "assignee": agent2.pk},
    )
    assert set(Ticket.objects.values_list("assignee", flat=True)) == {agent2.pk}


def test_an_agent_cannot_bulk_assign(client_for, agent, agent2, ticket):
    response = client_for(agent).post(
        reverse("tickets:bulk_assign"), {"tickets": [ticket.pk], "assignee": agent2.pk}
    )
    assert response.status_code == 403


def test_the_customer_page_shows_its_tickets(client_for, supervisor, make_ticket, alice, monday):
    customer = customer_create(
        by=alice,
        owner=alice,
        name="宁波测试有限公司",
        category=CustomerCategory.objects.get(name="企业客户"),
    )
    ticket = make_ticket(customer=customer)
    from tickets.panels import customer_panel

    panel = customer_panel(customer, supervisor)
    assert list(panel["tickets"]) == [ticket]
    assert panel["open_count"] == 1


def test_the_home_panel_lists_my_open_tickets(client_for, agent, ticket):
    response = client_for(agent).get(reverse("home"))
    assert 'data-testid="home-tickets"' in response.text
    assert ticket.number in response.text


def test_a_collaborator_from_sales_sees_the_ticket_and_finishes_their_task(
    client_for, agent, alice, ticket
):
    client = client_for(alice)
    assert client.get(reverse("tickets:detail", args=[ticket.pk])).status_code == 404
    collaborator = services.collaborator_add(
        ticket=ticket,
        user=alice,
        task="确认合同条款",
        due_at=ticket.resolution_due,
        by=agent,
    )
    response = client.get(reverse("tickets:detail", args=[ticket.pk]))
    assert "确认合同条款" in response.text
    other = reverse("tickets:collaborator_done", args=[ticket.pk, collaborator.pk + 1000])
    assert client.post(other).status_code == 404
    client.post(reverse("tickets:collaborator_done", args=[ticket.pk, collaborator.pk]))
    collaborator.refresh_from_db()
    assert collaborator.done_at is not None


@pytest.mark.parametrize(
    "name",
    [
        "admin:tickets_ticket_changelist",
        "admin:tickets_ticketcategory_changelist",
        "admin:tickets_slapolicy_changelist",
        "admin:tickets_servicequeue_changelist",
    ],
)
def test_the_admin_pages_open(client_for, admin_user, ticket, name):
    client = client_for(admin_user)
    assert client.get(reverse(name)).status_code == 200
    change = reverse("admin:tickets_ticket_change", args=[ticket.pk])
    assert client.get(change).status_code == 200


def test_the_desk_settings_link_the_business_calendar(client_for, admin_user):
    from tickets.models import DeskSettings

    url = reverse("admin:tickets_desksettings_change", args=[DeskSettings.load().pk])
    response = client_for(admin_user).get(url)
    assert reverse("admin:tickets_workinghours_changelist") in response.text
    assert reverse("admin:tickets_slapolicy_changelist") in response.text


@pytest.mark.parametrize("data", [{}, {"reason": "x", "new_date": "2030-01-01"}])
def test_only_the_owner_or_a_supervisor_files_a_delay_explanation(
    client_for, analyst, agent2, ticket, data
):
    """The analyst reads the ticket but changes nothing, and another agent of the queue is not
    its owner: both are refused (403) whatever the form holds, and nothing is filed."""
    url = reverse("tickets:delay", args=[ticket.pk])
    assert client_for(analyst).post(url, data).status_code == 403
    assert client_for(agent2).post(url, data).status_code == 403
    assert not ticket.delay_explanations.exists()


def test_agents_open_on_their_tickets_and_supervisors_on_the_department(
    client_for, agent, supervisor, ticket
):
    assert client_for(agent).get(reverse("tickets:list")).context["tab"] == "mine"
    response = client_for(supervisor).get(reverse("tickets:list"))
    assert response.context["tab"] == "queue"
    assert ticket.number in response.content.decode()
