"""Customer import: upload, preview (nothing saved), run row by row, duplicates, large files on a
worker, who may see which job."""

import datetime
import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.accounts.roles import Role
from crm.core.models import DomainEvent
from customers import transfer
from customers.models import Contact, Customer, CustomField, ImportJob
from tests.factories import UserFactory

HEADERS = (
    "客户名称,客户分类,行业,来源渠道,省份,城市,地址,联系人,电话,邮箱,需求标签,客户类型,负责人,备注"
)


def csv_upload(
    *lines: str, name: str = "customers.csv", encoding: str = "utf-8"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, "\n".join(lines).encode(encoding), content_type="text/csv")


def xlsx_upload(rows: list[list], name: str = "customers.xlsx") -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/octet-stream")


@pytest.fixture
def importer(client_for, manager):
    return client_for(manager)


def upload(client, file, **options) -> ImportJob:
    response = client.post(
        reverse("customers:import"), {"file": file, "on_duplicate": "skip", **options}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.latest("pk")
    assert response["Location"] == job.get_absolute_url()
    return job


def confirm(client, job: ImportJob) -> ImportJob:
    response = client.post(job.get_absolute_url())
    assert response.status_code == 302
    job.refresh_from_db()
    return job


def rows_of(client, job: ImportJob) -> dict[int, str]:
    """Preview row number → what will happen to it, read from the page."""
    page = client.get(job.get_absolute_url()).content.decode()
    return {
        row["row"]: row["action"]
        for row in job.preview["rows"]
        if f'data-row="{row["row"]}"' in page
    }


# Happy paths


def test_a_manager_imports_a_csv_with_contacts_tags_and_custom_fields(importer, alice):
    CustomField.objects.create(key="budget_year", label="预算年度", type=CustomField.Type.NUMBER)
    CustomField.objects.create(
        key="grade", label="客户评级", type=CustomField.Type.CHOICE, choices="甲\n乙"
    )
    job = upload(
        importer,
        csv_upload(
            HEADERS + ",预算年度,grade",
            "杭州云帆科技有限公司,企业客户,软件和信息技术服务业,展会推广,浙江省,杭州,"
            "西湖区文三路100号,王经理,13812345678,wang@yunfan.cn,采购设备、技术咨询,意向客户,"
            "alice,老客户介绍,2025,甲",
            "上海海川贸易,,F51,online_ads,上海,上海,,李总,021-12345678,,价格问询;合作洽谈,,,,,",
        ),
    )

    assert job.status == ImportJob.Status.PREVIEWED
    assert job.preview["totals"] == {"create": 2, "update": 0, "skip": 0, "error": 0}
    assert not Customer.objects.exists()

    job = confirm(importer, job)

    assert job.status == ImportJob.Status.DONE
    assert (job.created_count, job.failed_count, job.processed_rows) == (2, 0, 2), job.errors
    yunfan = Customer.objects.get(name="杭州云帆科技有限公司")
    assert yunfan.number.startswith("C")
    assert len(yunfan.number) == 12
    assert yunfan.owner == alice
    assert yunfan.type == Customer.Type.INTENTION
    assert (yunfan.industry.code, yunfan.source.code) == ("I65", "exhibition")
    assert (yunfan.province.name, yunfan.region.code, yunfan.city) == ("浙江", "EAST", "杭州")
    assert yunfan.address == "西湖区文三路100号"
    assert yunfan.notes == "老客户介绍"
    assert sorted(tag.name for tag in yunfan.tags.all()) == ["技术咨询", "采购设备"]
    assert yunfan.custom_data == {"budget_year": 2025, "grade": "甲"}
    assert yunfan.name_pinyin.startswith("hangzhou")
    contact = yunfan.contacts.get()
    assert (contact.name, contact.phone, contact.email) == (
        "王经理",
        "13812345678",
        "wang@yunfan.cn",
    )
    assert contact.is_primary
    assert contact.phone_last4 == "5678"
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM customers_contact WHERE id = %s", [contact.pk])
        (stored,) = cursor.fetchone()
    assert "13812345678" not in stored  # encrypted at rest
    haichuan = Customer.objects.get(name="上海海川贸易")
    assert haichuan.category.name == "企业客户"  # the default category
    assert haichuan.owner is None
    assert haichuan.status == Customer.Status.TO_BE_ASSIGNED
    assert sorted(tag.name for tag in haichuan.tags.all()) == ["价格问询", "合作洽谈"]


def test_an_xlsx_with_english_headers_and_numeric_cells_imports(importer, bob):
    job = upload(
        importer,
        xlsx_upload(
            [
                ["Name", "Category", "Phone", "Contact", "Tags", "Type", "Owner", "Region"],
                [
                    "Acme Robotics Ltd",
                    "Individual",
                    13900001111,
                    "Mr Smith",
                    "Tech-first",
                    "won",
                    "bob",
                    "华南",
                ],
            ]
        ),
    )

    job = confirm(importer, job)

    assert job.created_count == 1, job.errors
    acme = Customer.objects.get()
    assert (acme.category.name, acme.type, acme.owner, acme.region.code) == (
        "个人客户",
        Customer.Type.WON,
        bob,
        "SOUTH",
    )
    assert acme.contacts.get().phone == "13900001111"
    assert [tag.name for tag in acme.tags.all()] == ["技术优先型"]


def test_a_gbk_csv_from_chinese_excel_is_read(importer):
    job = upload(
        importer, csv_upload("客户名称,电话", "宁波甬江机械,13712345678", encoding="gb18030")
    )

    assert confirm(importer, job).created_count == 1
    assert Customer.objects.get().name == "宁波甬江机械"


def test_the_default_owner_applies_to_rows_without_one(importer, alice, bob):
    job = upload(
        importer,
        csv_upload("客户名称,负责人", "甲公司,", "乙公司,bob"),
        default_owner=alice.pk,
    )

    confirm(importer, job)

    assert Customer.objects.get(name="甲公司").owner == alice
    assert Customer.objects.get(name="乙公司").owner == bob


# Preview and errors


def test_the_preview_reports_each_rows_problems_and_saves_nothing(importer):
    events = DomainEvent.objects.count()
    job = upload(
        importer,
        csv_upload(
            "客户名称,客户分类,电话,邮箱",
            "好公司,企业客户,13812345678,a@example.com",
            "坏电话公司,,1381234,",
            ",企业客户,13812345679,",
            "分类错公司,外星客户,,not-an-email",
        ),
    )

    assert job.preview["totals"] == {"create": 1, "update": 0, "skip": 0, "error": 3}
    assert [row["action"] for row in job.preview["rows"]] == ["create", "error", "error", "error"]
    problems = {(e["row"], e["field"]) for e in job.errors}
    assert problems == {(3, "电话"), (4, "客户名称"), (5, "客户分类"), (5, "邮箱")}
    assert not Customer.objects.exists()
    assert not Contact.objects.exists()
    assert DomainEvent.objects.count() == events
    page = importer.get(job.get_absolute_url())
    assert page.content.decode().count('data-testid="row-error"') == 4
    assert page.content.decode().count('data-testid="preview-row"') == 4

    job = confirm(importer, job)

    assert (job.created_count, job.failed_count) == (1, 3)
    assert sorted({e["row"] for e in job.errors}) == [3, 4, 5]


def test_custom_fields_are_validated_by_type_and_requirement(importer):
    CustomField.objects.create(
        key="staff", label="员工数", type=CustomField.Type.NUMBER, required=True
    )
    CustomField.objects.create(key="signed", label="签约日期", type=CustomField.Type.DATE)
    job = upload(
        importer,
        csv_upload(
            "客户名称,员工数,签约日期",
            "甲公司,120,2025-03-01",
            "乙公司,很多,",
            "丙公司,,2025-13-45",
        ),
    )

    assert [row["action"] for row in job.preview["rows"]] == ["create", "error", "error"]
    assert {(e["row"], e["field"]) for e in job.errors} == {
        (3, "员工数"),
        (4, "员工数"),
        (4, "签约日期"),
    }
    confirm(importer, job)
    assert Customer.objects.get().custom_data == {"staff": 120, "signed": "2025-03-01"}


def test_the_errors_are_paginated_on_the_job_page(importer):
    lines = ["客户名称,电话", *[f"公司{i},123" for i in range(60)]]
    job = upload(importer, csv_upload(*lines))

    first = importer.get(job.get_absolute_url()).content.decode()
    second = importer.get(job.get_absolute_url() + "?page=2").content.decode()

    assert first.count('data-testid="row-error"') == 50
    assert second.count('data-testid="row-error"') == 10
    assert first.count('data-testid="preview-row"') == 50  # the first 50 rows only


def test_a_file_that_is_neither_csv_nor_xlsx_is_refused(importer):
    png = SimpleUploadedFile("customers.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)

    response = importer.post(reverse("customers:import"), {"file": png, "on_duplicate": "skip"})

    assert response.status_code == 200
    assert "file" in response.context["form"].errors
    assert not ImportJob.objects.exists()


def test_a_damaged_workbook_is_refused(importer):
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<not-a-workbook")

    response = importer.post(
        reverse("customers:import"),
        {"file": SimpleUploadedFile("c.xlsx", damaged.getvalue()), "on_duplicate": "skip"},
    )

    assert response.context["form"].errors["file"]
    assert not ImportJob.objects.exists()


def test_a_file_without_a_name_column_is_refused(importer):
    response = importer.post(
        reverse("customers:import"),
        {"file": csv_upload("电话,邮箱", "13812345678,a@b.cn"), "on_duplicate": "skip"},
    )

    assert response.context["form"].errors["file"]
    assert not ImportJob.objects.exists()


def test_a_file_over_the_row_limit_is_refused(importer, settings):
    settings.CUSTOMER_IMPORT_MAX_ROWS = 2

    response = importer.post(
        reverse("customers:import"),
        {"file": csv_upload("客户名称", "甲", "乙", "丙"), "on_duplicate": "skip"},
    )

    assert response.context["form"].errors["file"]
    assert not ImportJob.objects.exists()


def test_confirming_twice_imports_once(importer):
    job = upload(importer, csv_upload("客户名称", "甲公司"))

    confirm(importer, job)
    confirm(importer, job)

    assert Customer.objects.count() == 1


# Duplicates


@pytest.fixture
def existing(alice, make_customer):
    return make_customer(alice, name="杭州示例科技有限公司", phone="13812345678")


def test_duplicates_are_skipped_by_default(importer, existing):
    job = upload(
        importer,
        csv_upload(
            "客户名称,电话", "杭州示例科技,", "别名公司,138 1234 5678", "新公司,13700000000"
        ),
    )

    assert [row["action"] for row in job.preview["rows"]] == ["skip", "skip", "create"]
    assert job.preview["rows"][0]["duplicate"]["number"] == existing.number
    job = confirm(importer, job)
    assert (job.created_count, job.skipped_count) == (1, 2)
    assert Customer.objects.count() == 2


def test_update_mode_fills_in_the_existing_customer(importer, existing):
    job = upload(
        importer,
        csv_upload(
            "客户名称,城市,需求标签,联系人,电话", "杭州示例科技,杭州,价格问询,赵工,13600000000"
        ),
        on_duplicate="update",
    )

    assert job.preview["rows"][0]["action"] == "update"
    job = confirm(importer, job)

    assert (job.updated_count, job.created_count) == (1, 0)
    existing.refresh_from_db()
    assert existing.name == "杭州示例科技有限公司"  # the name on file stays
    assert existing.city == "杭州"
    assert [tag.name for tag in existing.tags.all()] == ["价格问询"]
    assert sorted(existing.contacts.values_list("name", flat=True)) == ["王经理", "赵工"]
    assert existing.contacts.get(is_primary=True).name == "王经理"


def test_create_mode_adds_a_second_customer(importer, existing):
    job = upload(importer, csv_upload("客户名称", "杭州示例科技"), on_duplicate="create")

    assert confirm(importer, job).created_count == 1
    assert Customer.objects.filter(name_normalized=existing.name_normalized).count() == 2


def test_repeated_rows_of_one_file_are_duplicates_of_each_other(importer):
    job = upload(importer, csv_upload("客户名称,电话", "甲公司,13812345678", "甲公司有限公司,"))

    assert [row["action"] for row in job.preview["rows"]] == ["create", "skip"]
    assert job.preview["rows"][1]["duplicate_row"] == 2
    job = confirm(importer, job)
    assert (job.created_count, job.skipped_count) == (1, 1)


def test_a_duplicate_of_another_teams_customer_is_reported_without_revealing_it(
    importer, charlie, make_customer
):
    hidden = make_customer(charlie, name="深圳隐秘科技有限公司", phone="13500000000")

    for mode in ("skip", "update", "create"):
        job = upload(
            importer, csv_upload("客户名称,电话", "另一家公司,13500000000"), on_duplicate=mode
        )
        assert job.preview["rows"][0]["action"] == "skip"
        assert job.preview["rows"][0]["duplicate"] is None
        page = importer.get(job.get_absolute_url()).content.decode()
        assert hidden.number not in page
        assert hidden.name not in page
        confirm(importer, job)
        assert job.errors
        assert hidden.number not in str(job.errors)

    assert Customer.objects.count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite does not enforce a column's length"
)
def test_a_row_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_saved(importer):
    # Valid to the email validator (at most 320 characters), too long for the column (254):
    # the batch's COPY fails, and its rows are saved one by one.
    domain = ".".join(["b" * 63, "c" * 63, "d" * 63, "e" * 40]) + ".com"
    long_email = "a" * 60 + "@" + domain
    job = upload(
        importer,
        csv_upload(
            "客户名称,联系人,邮箱,电话",
            "甲公司,王经理,wang@jia.cn,13812345678",
            f"乙公司,李总,{long_email},",
            "丙公司,赵工,,13900000000",
        ),
    )
    assert job.preview["totals"]["create"] == 3

    job = confirm(importer, job)

    assert (job.status, job.created_count, job.failed_count) == (ImportJob.Status.DONE, 2, 1)
    assert [problem["row"] for problem in job.errors] == [3]
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["丙公司", "甲公司"]
    assert Contact.objects.get(customer__name="甲公司").phone == "13812345678"
    assert DomainEvent.objects.filter(name="customer.created").count() == 2


# Large files


def test_a_large_file_runs_on_a_worker_with_progress(
    importer, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from customers import tasks_transfer

    settings.CUSTOMER_IMPORT_SYNC_MAX_ROWS = 5
    sent: list[int] = []
    monkeypatch.setattr(tasks_transfer.import_run, "delay", sent.append)  # the broker
    job = upload(importer, csv_upload("客户名称", *[f"公司{i}" for i in range(6)]))

    with django_capture_on_commit_callbacks(execute=True):
        job = confirm(importer, job)

    assert job.status == ImportJob.Status.RUNNING
    assert sent == [job.pk]
    assert not Customer.objects.exists()
    poll = importer.get(job.get_absolute_url(), headers={"HX-Request": "true"})
    assert 'data-testid="import-progress"' in poll.content.decode()
    assert 'data-processed="0" data-total="6"' in poll.content.decode()
    assert 'hx-trigger="every 2s"' in poll.content.decode()

    tasks_transfer.import_run(job.pk)  # what the worker does

    job.refresh_from_db()
    assert (job.status, job.created_count, job.processed_rows) == (ImportJob.Status.DONE, 6, 6)
    done = importer.get(job.get_absolute_url(), headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"


def test_a_request_that_runs_out_of_time_hands_the_rest_to_a_worker(
    importer, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from customers import tasks_transfer

    settings.CUSTOMER_IMPORT_REQUEST_SECONDS = 0
    monkeypatch.setattr(transfer, "PROGRESS_EVERY", 2)
    sent: list[int] = []
    monkeypatch.setattr(tasks_transfer.import_run, "delay", sent.append)
    job = upload(importer, csv_upload("客户名称", "甲公司", "乙公司", "丙公司"))

    with django_capture_on_commit_callbacks(execute=True):
        job = confirm(importer, job)

    assert (job.status, job.processed_rows, job.created_count) == (ImportJob.Status.RUNNING, 2, 2)
    assert sent == [job.pk]
    tasks_transfer.import_run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.created_count) == (ImportJob.Status.DONE, 3)


def test_a_resumed_job_continues_after_the_last_saved_batch(importer, monkeypatch):
    monkeypatch.setattr(transfer, "PROGRESS_EVERY", 2)
    job = upload(importer, csv_upload("客户名称", "甲公司", "乙公司", "丙公司"))
    # A worker saved the first batch, then died.
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, processed_rows=2, created_count=2
    )

    transfer.import_job_run(job_id=job.pk)
    transfer.import_job_run(job_id=job.pk)  # a redelivered task does nothing

    job.refresh_from_db()
    assert (job.status, job.created_count, job.processed_rows) == (ImportJob.Status.DONE, 3, 3)
    assert list(Customer.objects.values_list("name", flat=True)) == ["丙公司"]


def test_the_sweep_sends_a_stalled_import_again_once(importer, monkeypatch):
    from customers import tasks_transfer

    sent: list[int] = []
    monkeypatch.setattr(tasks_transfer.import_run, "delay", sent.append)
    job = upload(importer, csv_upload("客户名称", "甲公司"))
    started = timezone.now() - datetime.timedelta(minutes=30)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, started_at=started, progressed_at=started
    )
    moving = upload(importer, csv_upload("客户名称", "乙公司"))
    ImportJob.objects.filter(pk=moving.pk).update(
        status=ImportJob.Status.RUNNING, progressed_at=timezone.now()
    )

    assert tasks_transfer.import_resume_stalled() == 1
    assert tasks_transfer.import_resume_stalled() == 0  # claimed: sent once

    assert sent == [job.pk]


def test_a_second_runner_of_the_same_job_saves_nothing(importer, monkeypatch):
    monkeypatch.setattr(transfer, "PROGRESS_EVERY", 2)
    job = upload(importer, csv_upload("客户名称", "甲公司", "乙公司", "丙公司"))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    stale = ImportJob.objects.get(pk=job.pk)  # what a redelivered task read
    transfer.import_job_run(job_id=job.pk)  # the first runner finishes the job

    table = transfer._job_table(stale)
    lookups = transfer.Lookups(transfer.assignable_owners(stale.user))
    columns = transfer.ColumnMap.build(table.headers, lookups.custom_fields)
    index = transfer.DuplicateIndex(stale.user, [])
    with pytest.raises(transfer.SupersededError):
        transfer._run_batch(stale, list(table.rows())[:2], columns, lookups, index)

    assert Customer.objects.count() == 3


# Who sees what


def test_charlie_gets_404_on_someone_elses_import_job(importer, client_for, charlie):
    job = upload(importer, csv_upload("客户名称", "甲公司"))
    client = client_for(charlie)

    assert client.get(job.get_absolute_url()).status_code == 404
    assert client.post(job.get_absolute_url()).status_code == 404


def test_another_manager_gets_404_and_cannot_run_the_job(importer, team_b):
    job = upload(importer, csv_upload("客户名称", "甲公司"))
    other = UserFactory(username="manager_b", team=team_b, role=Role.SALES_MANAGER)
    client = Client()
    client.force_login(other)

    assert client.get(job.get_absolute_url()).status_code == 404
    assert client.post(job.get_absolute_url()).status_code == 404
    assert not Customer.objects.exists()


def test_reps_cannot_open_the_import_pages(client_for, alice):
    client = client_for(alice)

    assert client.get(reverse("customers:import")).status_code == 403
    assert client.get(reverse("customers:import_jobs")).status_code == 403
    assert client.get(reverse("customers:import_template")).status_code == 403
    response = client.post(reverse("customers:import"), {"file": csv_upload("客户名称", "甲")})
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_an_owner_outside_the_importers_reach_is_refused(importer, charlie):
    job = upload(importer, csv_upload("客户名称,负责人", "甲公司,charlie"))

    assert job.preview["rows"][0]["action"] == "error"
    assert job.errors[0]["field"] == "负责人"


def test_the_upload_page_and_template_download(importer):
    CustomField.objects.create(key="grade", label="客户评级", type=CustomField.Type.TEXT)

    assert importer.get(reverse("customers:import")).status_code == 200
    template = importer.get(reverse("customers:import_template"))
    assert template.content.startswith(b"\xef\xbb\xbf")
    assert "客户评级" in template.content.decode("utf-8-sig")


# The import log


def test_the_import_log_lists_the_users_jobs_with_counts(
    importer, manager, admin_user, client_for, django_assert_num_queries
):
    for name in ("甲公司", "乙公司", "丙公司"):
        confirm(importer, upload(importer, csv_upload("客户名称", name)))
    ImportJob.objects.create(
        user=admin_user, original_name="admin.csv", file="x.csv", file_format="csv"
    )

    # session, user, the user's roles, count, page of jobs with their users
    # session, user, the user's roles, count of jobs, unread notifications (the shell's badge),
    # the page of jobs joined with their users
    with django_assert_num_queries(6):
        response = importer.get(reverse("customers:import_jobs"))

    assert response.content.decode().count('data-testid="import-job"') == 3
    assert response.content.decode().count('data-testid="created">1<') == 3
    admin_page = client_for(admin_user).get(reverse("customers:import_jobs"))
    assert admin_page.content.decode().count('data-testid="import-job"') == 4
