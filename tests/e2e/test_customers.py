"""Customer journeys in a real browser: create, duplicates across teams, an approved key-field
change, and the public lead form."""

import re

import pytest
from playwright.sync_api import Page, expect

from customers.models import Customer, CustomerCategory
from customers.services import customer_create

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_rep_creates_a_customer_with_a_contact_and_sees_its_number(
    page: Page, demo_users, sign_in
):
    sign_in("rep1")
    page.goto("/customers/new/")
    page.locator("#id_name").fill("宁波海曙精密机械有限公司")
    page.locator("#id_category").select_option(label="企业客户")
    page.locator("#id_contact_name").fill("周工")
    page.locator("#id_contact_phone").fill("13566667777")
    page.get_by_test_id("save-customer").click()

    customer = Customer.objects.get(name="宁波海曙精密机械有限公司")
    expect(page.get_by_test_id("customer-number")).to_have_text(customer.number)
    assert re.fullmatch(r"C\d{11}", customer.number)
    expect(page.get_by_test_id("contact-phone")).to_have_text("135****7777")


def test_a_rep_of_another_team_sees_only_a_masked_duplicate_notice(page: Page, demo_users, sign_in):
    existing = customer_create(
        by=demo_users["rep1"],
        name="温州瓯江电器有限公司",
        category=CustomerCategory.objects.get(name="企业客户"),
        contacts=[{"name": "陈总", "phone": "13700001111"}],
    )
    sign_in("rep2")
    page.goto("/customers/?q=13700001111")
    expect(page.get_by_test_id("customer-row")).to_have_count(0)

    page.goto("/customers/new/")
    page.locator("#id_name").fill("另一家公司")
    page.locator("#id_category").select_option(label="企业客户")
    page.locator("#id_contact_name").fill("陈先生")
    page.locator("#id_contact_phone").fill("137 0000 1111")
    page.get_by_test_id("save-customer").click()

    expect(page.get_by_test_id("hidden-duplicate")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(existing.number)
    expect(page.locator("body")).not_to_contain_text("温州瓯江电器")
    assert Customer.objects.count() == 1


def test_a_manager_approves_a_reps_key_field_change(new_page, demo_users, sign_in):
    customer = customer_create(
        by=demo_users["rep1"],
        name="嘉兴南湖纺织有限公司",
        category=CustomerCategory.objects.get(name="企业客户"),
    )
    rep_page = new_page()
    sign_in("rep1", on=rep_page)
    rep_page.goto(f"/customers/{customer.pk}/edit/")
    rep_page.locator("#id_annual_amount").fill("650000")
    rep_page.locator("#id_change_reason").fill("签订年度框架协议")
    rep_page.get_by_test_id("save-customer").click()
    expect(rep_page.get_by_test_id("pending-request")).to_be_visible()

    manager_page = new_page()
    sign_in("manager", on=manager_page)
    manager_page.goto("/approvals/")
    manager_page.get_by_test_id("approval-row").get_by_role("link").first.click()
    expect(manager_page.locator("body")).to_contain_text("签订年度框架协议")
    manager_page.get_by_role("button", name="同意").click()
    expect(manager_page.get_by_test_id("approval-status")).to_have_text("已同意")

    rep_page.goto(f"/customers/{customer.pk}/")
    expect(rep_page.locator("body")).to_contain_text("¥65.0万")
    expect(rep_page.get_by_test_id("pending-request")).to_have_count(0)


def test_a_website_visitor_fixes_a_bad_phone_on_the_lead_form(page: Page, demo_users):
    page.goto("/leads/capture/?source=exhibition")
    page.locator("#id_name").fill("绍兴柯桥印染有限公司")
    page.locator("#id_phone").fill("1380013")
    page.locator("form button[type=submit]").click()

    expect(page.locator(".invalid-feedback, .errorlist, .text-danger").first).to_be_visible()
    assert not Customer.objects.exists()

    page.locator("#id_phone").fill("13800138000")
    page.locator("form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/leads/capture/thanks/"))
    customer = Customer.objects.get()
    assert customer.name == "绍兴柯桥印染有限公司"
    assert customer.status == Customer.Status.TO_BE_ASSIGNED
    assert customer.contacts.get().name == "未知联系人"
