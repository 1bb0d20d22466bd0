"""Customer export: only visible rows, masked by default, unmasked only through an approved,
single-use, expiring link; every export logged with its hash."""

import csv
import datetime
import hashlib
import io

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from crm.accounts.roles import Role
from crm.approvals.models import ApprovalRequest
from crm.approvals.services import approval_decide
from crm.notifications.models import Notification
from customers import transfer
from customers.models import CustomField, ExportLog, ExportRequest
from tests.factories import UserFactory


def read_csv(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert content.startswith(b"\xef\xbb\xbf")  # so Excel reads the Chinese as UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def export(client, query: str = "", **data):
    return client.post(
        reverse("customers:export") + (f"?{query}" if query else ""),
        {"file_format": "csv", "query": query, **data},
    )


@pytest.fixture
def customers(alice, charlie, make_customer):
    return {
        "alice": make_customer(
            alice,
            name="杭州示例科技有限公司",
            phone="13812345678",
            address="浙江省杭州市西湖区文三路100号",
        ),
        "alice2": make_customer(alice, name="宁波甬江机械", phone="13912345678"),
        "charlie": make_customer(charlie, name="深圳南山电子", phone="13700001111"),
    }


# Masked exports


def test_an_export_holds_only_the_rows_the_user_sees(client_for, charlie, customers):
    rows = read_csv(export(client_for(charlie)))

    assert [row[1] for row in rows[1:]] == ["深圳南山电子"]


def test_phones_and_addresses_are_masked_by_default(client_for, alice, customers):
    rows = read_csv(export(client_for(alice)))

    header, *body = rows
    by_name = {row[1]: dict(zip(header, row, strict=True)) for row in body}
    assert set(by_name) == {"杭州示例科技有限公司", "宁波甬江机械"}
    hangzhou = list(by_name["杭州示例科技有限公司"].values())
    assert customers["alice"].number in hangzhou
    assert "138****5678" in hangzhou
    assert "13812345678" not in ",".join(hangzhou)
    assert "浙江省杭州市****" in hangzhou
    assert "文三路" not in ",".join(hangzhou)


def test_the_export_follows_the_lists_filter(client_for, alice, customers):
    rows = read_csv(export(client_for(alice), query="q=宁波"))

    assert [row[1] for row in rows[1:]] == ["宁波甬江机械"]


def test_an_xlsx_export_has_the_same_rows_and_custom_fields(client_for, alice, customers):
    CustomField.objects.create(key="grade", label="客户评级", type=CustomField.Type.TEXT)
    customers["alice"].custom_data = {"grade": "甲"}
    customers["alice"].save(update_fields=["custom_data"])

    response = export(client_for(alice), file_format="xlsx")

    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-1] == "客户评级"
    assert sorted(row[1] for row in rows[1:]) == ["宁波甬江机械", "杭州示例科技有限公司"]
    assert {row[1]: row[-1] for row in rows[1:]}["杭州示例科技有限公司"] == "甲"


def test_every_export_is_logged_with_its_hash_and_row_count(client_for, alice, customers):
    response = export(client_for(alice), query="q=宁波")

    log = ExportLog.objects.get()
    assert (log.user, log.row_count, log.file_format, log.masked) == (alice, 1, "csv", True)
    assert log.query == "q=%E5%AE%81%E6%B3%A2"
    assert log.sha256 == hashlib.sha256(response.content).hexdigest()


def test_a_cell_that_excel_would_run_as_a_formula_is_defused(client_for, alice, make_customer):
    make_customer(alice, name='=HYPERLINK("http://evil")', phone="")

    rows = read_csv(export(client_for(alice)))

    assert rows[1][1] == '\'=HYPERLINK("http://evil")'


def test_the_export_page_counts_the_rows_of_the_filter(client_for, alice, customers):
    response = client_for(alice).get(reverse("customers:export") + "?q=宁波&page=3")

    assert response.status_code == 200
    assert 'data-count="1"' in response.content.decode()
    assert response.context["form"]["query"].value() == "q=%E5%AE%81%E6%B3%A2"


def test_people_without_customer_access_cannot_export(client_for, agent):
    client = client_for(agent)

    assert client.get(reverse("customers:export")).status_code == 403
    assert export(client).status_code == 403
    assert not ExportLog.objects.exists()


# Unmasked exports


@pytest.fixture
def approved_link(client_for, alice, manager, customers):
    """Alice asks for full contact details; her manager approves; she gets a link."""
    response = export(client_for(alice), unmasked="on", reason="季度回访")
    assert response.status_code == 302
    export_request = ExportRequest.objects.get()
    approval = export_request.approval
    assert (approval.kind, approval.approver, approval.action) == (
        "customers.export",
        manager,
        ApprovalRequest.Action.EXPORT,
    )
    assert export_request.row_count == 2
    approval_decide(request=approval, by=manager, approve=True)
    notification = Notification.objects.get(recipient=alice, verb="customer_export_ready")
    export_request.refresh_from_db()
    assert notification.url == export_request.download_url()
    return notification.url


def test_asking_for_full_details_files_a_request_and_exports_nothing(
    client_for, alice, manager, customers
):
    response = export(client_for(alice), unmasked="on", reason="季度回访")

    assert response.status_code == 302
    export_request = ExportRequest.objects.get()
    assert export_request.token is None
    assert export_request.approval.status == ApprovalRequest.Status.PENDING
    assert not ExportLog.objects.exists()
    page = client_for(alice).get(reverse("customers:export"))
    assert 'data-state="pending"' in page.content.decode()


def test_full_details_need_a_reason(client_for, alice, manager, customers):
    response = export(client_for(alice), unmasked="on", reason=" ")

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert not ExportRequest.objects.exists()


def test_after_approval_the_link_downloads_full_details_once(client_for, alice, approved_link):
    client = client_for(alice)
    page = client.get(reverse("customers:export")).content.decode()
    assert f'href="{approved_link}"' in page

    response = client.get(approved_link)

    assert response.status_code == 200
    text = ",".join(",".join(row) for row in read_csv(response))
    assert "13812345678" in text
    assert "浙江省杭州市西湖区文三路100号" in text
    log = ExportLog.objects.get()
    assert (log.masked, log.row_count) == (False, 2)
    assert log.sha256 == hashlib.sha256(response.content).hexdigest()
    assert log.export_request == ExportRequest.objects.get()
    assert client.get(approved_link).status_code == 404  # single use
    assert ExportLog.objects.count() == 1


def test_only_the_requester_can_use_the_link(client_for, bob, manager, approved_link):
    assert client_for(bob).get(approved_link).status_code == 404
    assert client_for(manager).get(approved_link).status_code == 404
    assert not ExportLog.objects.exists()


def test_the_link_expires(client_for, alice, approved_link, settings):
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=24, minutes=1)):
        assert client_for(alice).get(approved_link).status_code == 404
    assert not ExportLog.objects.exists()


def test_the_link_lifetime_is_a_setting(alice, manager, customers, settings):
    settings.CUSTOMER_EXPORT_LINK_HOURS = 2
    from django.http import QueryDict

    export_request = transfer.export_request_create(
        user=alice, params=QueryDict(""), file_format="xlsx", reason="核对"
    )
    approval_decide(request=export_request.approval, by=manager, approve=True)

    export_request.refresh_from_db()
    assert export_request.expires_at - export_request.approved_at == datetime.timedelta(hours=2)
    assert export_request.state == ExportRequest.State.READY


def test_a_denied_request_gives_no_link(client_for, alice, manager, customers):
    export(client_for(alice), unmasked="on", reason="季度回访")
    export_request = ExportRequest.objects.get()

    approval_decide(request=export_request.approval, by=manager, approve=False)

    export_request.refresh_from_db()
    assert export_request.token is None
    assert export_request.state == ExportRequest.State.DENIED
    assert not Notification.objects.filter(verb="customer_export_ready").exists()


def test_an_unknown_token_is_404(client_for, alice):
    url = reverse("customers:export_download", args=["not-a-token"])

    assert client_for(alice).get(url).status_code == 404


def test_the_unmasked_file_still_holds_only_visible_rows(client_for, charlie, team_b, customers):
    head = UserFactory(username="head_b", team=team_b, role=Role.SALES_MANAGER)
    team_b.head = head
    team_b.save(update_fields=["head"])
    export(client_for(charlie), unmasked="on", reason="回访")
    export_request = ExportRequest.objects.get()
    approval_decide(request=export_request.approval, by=head, approve=True)
    export_request.refresh_from_db()

    rows = read_csv(client_for(charlie).get(export_request.download_url()))

    assert [row[1] for row in rows[1:]] == ["深圳南山电子"]
    assert "13700001111" in rows[1]
