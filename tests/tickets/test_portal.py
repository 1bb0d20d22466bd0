"""The public service portal: submitting, the private status link, adding information,
confirming the resolution; rate limit, honeypot, attachments and 404 for any other token."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.core.models import Attachment
from tickets.models import Ticket, TicketCategory, TicketMessage
from tickets.services import ticket_assign, ticket_create, ticket_message_add, ticket_move

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def category(db) -> TicketCategory:
    return TicketCategory.objects.get(name="产品使用类")


def form_data(the_category, **overrides):
    return {
        "category": the_category.pk,
        "description": "导出报表时提示“权限不足”。\n我们是管理员账号。",
        "contact_name": "刘洋",
        "contact_phone": "13912345678",
        "contact_email": "liuyang@example.com",
        "website": "",
        **overrides,
    }


@pytest.fixture
def ticket(category) -> Ticket:
    return ticket_create(
        contact_name="刘洋",
        contact_email="liuyang@example.com",
        category=category,
        description="如何导出报表？",
        channel=Ticket.Channel.PORTAL,
    )


def status_url(ticket: Ticket) -> str:
    return reverse("service:status", args=[ticket.public_token])


class TestSubmit:
    def test_the_form_shows_two_level_categories_without_login(self, client, category):
        response = client.get(reverse("service:submit"))
        assert response.status_code == 200
        content = response.content.decode()
        assert '<optgroup label="咨询">' in content
        assert "产品使用类" in content

    def test_a_request_becomes_a_ticket_with_a_private_link(self, client, category):
        response = client.post(reverse("service:submit"), form_data(category))
        ticket = Ticket.objects.get()
        assert response.status_code == 302
        assert response.url == status_url(ticket) + "?new=1"
        assert ticket.channel == Ticket.Channel.PORTAL
        assert ticket.category == category
        assert ticket.contact_phone == "13912345678"
        assert ticket.created_by is None
        page = client.get(response.url).content.decode()
        assert ticket.number in page
        assert ticket.public_token in page

    def test_a_known_phone_links_the_archive_contact(self, client, category, alice):
        from customers.models import CustomerCategory
        from customers.services import customer_create

        customer = customer_create(
            by=alice,
            owner=alice,
            name="杭州示例科技有限公司",
            category=CustomerCategory.objects.get(name="企业客户"),
            contacts=[{"name": "刘洋", "phone": "13912345678"}],
        )
        client.post(reverse("service:submit"), form_data(category))
        assert Ticket.objects.get().customer == customer

    def test_attachments_are_kept(self, client, category):
        upload = SimpleUploadedFile("截图.pdf", PDF, content_type="application/pdf")
        client.post(reverse("service:submit"), {**form_data(category), "attachments": [upload]})
        ticket = Ticket.objects.get()
        attachment = Attachment.objects.for_object(ticket).get()
        assert attachment.original_name == "截图.pdf"
        assert not attachment.uploaded_by.is_active  # the intake account can never sign in

    def test_a_refused_attachment_is_a_clear_error(self, client, category):
        upload = SimpleUploadedFile("setup.exe", b"MZ\x90\x00" + b"\x00" * 60)
        response = client.post(
            reverse("service:submit"), {**form_data(category), "attachments": [upload]}
        )
        assert response.status_code == 200
        assert "不接受此类文件" in response.content.decode() or "not accepted" in (
            response.content.decode()
        )
        assert not Ticket.objects.exists()

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"contact_phone": "", "contact_email": ""}, "phone number or an email"),
            ({"contact_phone": "1391234"}, None),
            ({"description": ""}, None),
            ({"category": "999999"}, None),
        ],
    )
    def test_bad_input_is_explained_not_a_500(self, client, category, overrides, message, settings):
        settings.LANGUAGE_CODE = "en"
        response = client.post(
            reverse("service:submit"),
            form_data(category, **overrides),
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 200
        assert "is-invalid" in response.content.decode() or "alert-danger" in (
            response.content.decode()
        )
        if message:
            assert message in response.content.decode()
        assert not Ticket.objects.exists()

    def test_the_honeypot_looks_successful_but_files_nothing(self, client, category):
        response = client.post(
            reverse("service:submit"), form_data(category, website="http://spam.example")
        )
        assert response.status_code == 302
        assert response.url == reverse("service:received")
        assert not Ticket.objects.exists()

    def test_submissions_are_rate_limited_per_address(self, client, category, settings):
        settings.SERVICE_PORTAL_RATE = "2/m"
        for _attempt in range(2):
            assert client.post(reverse("service:submit"), form_data(category)).status_code == 302
        response = client.post(reverse("service:submit"), form_data(category))
        assert response.status_code == 429
        assert Ticket.objects.count() == 2


class TestStatusPage:
    def test_another_token_or_a_guessed_id_is_404(self, client, ticket, charlie):
        assert client.get(status_url(ticket)).status_code == 200
        assert client.get(reverse("service:status", args=["x" * 32])).status_code == 404
        assert client.get(f"/service/{ticket.pk}/").status_code == 404
        assert client.get(f"/service/{ticket.number}/").status_code == 404
        client.force_login(charlie)  # a signed-in user outside scope gains nothing either
        assert client.get(reverse("service:status", args=["y" * 32])).status_code == 404

    def test_posting_to_another_token_is_404(self, client, ticket):
        fake = "z" * 32
        assert (
            client.post(reverse("service:add_information", args=[fake]), {"body": "hi"}).status_code
            == 404
        )
        assert client.post(reverse("service:confirm", args=[fake])).status_code == 404

    def test_the_customer_reads_public_replies_never_internal_notes(
        self, client, ticket, agent, supervisor
    ):
        ticket_assign(ticket=ticket, assignee=agent, by=supervisor)
        ticket_message_add(ticket=ticket, body="内部：找研发确认", kind="note", by=agent)
        ticket_message_add(ticket=ticket, body="请在设置中开启导出权限。", kind="reply", by=agent)
        page = client.get(status_url(ticket)).content.decode()
        assert "请在设置中开启导出权限。" in page
        assert "找研发确认" not in page

    def test_the_page_costs_a_fixed_number_of_queries(
        self, client, ticket, agent, supervisor, django_assert_num_queries
    ):
        ticket_assign(ticket=ticket, assignee=agent, by=supervisor)
        for number in range(3):
            ticket_message_add(ticket=ticket, body=f"回复 {number}", kind="reply", by=agent)
        client.get(status_url(ticket))  # warm the company settings cache
        # ticket, its public messages, attachments, the survey, the session-less shell's
        # company settings come from the cache.
        with django_assert_num_queries(4):
            client.get(status_url(ticket))
        ticket_message_add(ticket=ticket, body="再补充", kind="customer")
        with django_assert_num_queries(4):
            client.get(status_url(ticket))

    def test_the_customer_adds_information(self, client, ticket):
        upload = SimpleUploadedFile("日志.txt", "错误码 403".encode(), content_type="text/plain")
        response = client.post(
            reverse("service:add_information", args=[ticket.public_token]),
            {"body": "补充：错误码 403", "attachments": [upload]},
        )
        assert response.status_code == 302
        message = ticket.messages.get()
        assert message.kind == TicketMessage.Kind.CUSTOMER
        assert message.author_name == "刘洋"
        assert Attachment.objects.for_object(ticket).get().original_name == "日志.txt"

    def test_an_empty_message_is_explained(self, client, ticket):
        response = client.post(
            reverse("service:add_information", args=[ticket.public_token]), {"body": "  "}
        )
        assert response.status_code == 400
        assert not ticket.messages.exists()

    def test_the_customer_confirms_the_resolution(self, client, ticket, agent, supervisor):
        ticket_assign(ticket=ticket, assignee=agent, by=supervisor)
        ticket_message_add(ticket=ticket, body="已为您开通。", kind="reply", by=agent)
        ticket_move(ticket=ticket, status=Ticket.Status.AWAITING, by=agent)
        page = client.get(status_url(ticket)).content.decode()
        assert 'data-testid="portal-confirm"' in page
        response = client.post(reverse("service:confirm", args=[ticket.public_token]))
        assert response.status_code == 302
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.CLOSED
        event = ticket.events.filter(to_status=Ticket.Status.CLOSED).get()
        assert event.actor is None

    def test_confirming_too_early_is_explained(self, client, ticket):
        response = client.post(reverse("service:confirm", args=[ticket.public_token]))
        assert response.status_code == 400
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.NEW

    def test_a_closed_ticket_takes_no_more_messages(self, client, ticket, agent, supervisor):
        ticket_assign(ticket=ticket, assignee=agent, by=supervisor)
        ticket_move(ticket=ticket, status=Ticket.Status.CLOSED, by=agent)
        response = client.post(
            reverse("service:add_information", args=[ticket.public_token]), {"body": "还有问题"}
        )
        assert response.status_code == 400
        assert not ticket.messages.exists()


class TestCustomerFiles:
    def test_the_customer_downloads_their_file_through_their_link_only(
        self, client, ticket, category
    ):
        from tickets.intake import customer_files_attach

        other = ticket_create(
            contact_name="陈刚",
            contact_email="chen@example.com",
            category=category,
            description="另一个请求",
            channel=Ticket.Channel.PORTAL,
        )
        (attachment,), _refused = customer_files_attach(
            ticket=ticket,
            uploads=[SimpleUploadedFile("截图.pdf", PDF, content_type="application/pdf")],
        )
        url = reverse("service:file", args=[ticket.public_token, attachment.pk])
        assert url in client.get(status_url(ticket)).content.decode()
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["X-Content-Type-Options"] == "nosniff"
        foreign = reverse("service:file", args=[other.public_token, attachment.pk])
        assert client.get(foreign).status_code == 404

    def test_files_staff_attach_stay_internal(self, client, ticket, agent):
        from crm.core.attachments import attachment_add

        internal = attachment_add(
            target=ticket,
            upload=SimpleUploadedFile("内部报价.pdf", PDF, content_type="application/pdf"),
            by=agent,
        )
        page = client.get(status_url(ticket)).content.decode()
        assert "内部报价.pdf" not in page
        url = reverse("service:file", args=[ticket.public_token, internal.pk])
        assert client.get(url).status_code == 404


def test_the_customer_is_emailed_the_number_and_link_once(
    client, category, django_capture_on_commit_callbacks
):
    from django.core import mail

    from tickets.intake import portal_receipt_send

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("service:submit"), form_data(category))
    ticket = Ticket.objects.get()
    receipts = [message for message in mail.outbox if ticket.public_token in message.body]
    assert len(receipts) == 1
    assert receipts[0].to == ["liuyang@example.com"]
    assert ticket.number in receipts[0].subject
    assert not portal_receipt_send(ticket_id=ticket.pk)  # a repeated task sends nothing
