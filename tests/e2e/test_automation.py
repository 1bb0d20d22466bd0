"""An admin writes a rule in Django admin; a website lead is assigned by it; the rep sees the
new customer on their home page."""

import re

import pytest
from playwright.sync_api import expect

from crm.automation.models import RuleRun
from crm.core.models import DomainEvent
from customers.models import Customer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_admin_rule_assigns_a_captured_lead_to_a_rep(new_page, demo_users, sign_in):
    admin_page = new_page()
    sign_in("admin", on=admin_page)
    admin_page.goto("/admin/automation/rule/add/")
    admin_page.locator("#id_name").fill("官网线索给李明")
    admin_page.locator("#id_trigger").select_option("lead.captured")
    admin_page.locator("#conditions-group .add-row a").click()
    admin_page.locator("#id_conditions-0-field").select_option("source")
    admin_page.locator("#id_conditions-0-operator").select_option("eq")
    admin_page.locator("#id_conditions-0-value").fill("website_form")
    admin_page.locator("#actions-group .add-row a").click()
    admin_page.locator("#id_actions-0-type").select_option("customers.assign_owner")
    admin_page.locator("#id_actions-0-mode").select_option("fixed")
    admin_page.locator('[aria-labelledby="select2-id_actions-0-user-container"]').click()
    admin_page.locator(".select2-search__field").fill("rep1")
    admin_page.locator(".select2-results__option", has_text="李明").click()
    admin_page.locator("input[name=_save]").click()
    expect(admin_page.locator(".messagelist")).to_be_visible()

    visitor = new_page()
    visitor.goto("/leads/capture/")
    visitor.locator("#id_name").fill("湖州吴兴新能源有限公司")
    visitor.locator("#id_phone").fill("13655556666")
    visitor.get_by_test_id("lead-submit").click()
    expect(visitor).to_have_url(re.compile(r"/leads/capture/thanks/"))

    customer = Customer.objects.get(name="湖州吴兴新能源有限公司")
    assert customer.owner == demo_users["rep1"], (
        list(RuleRun.objects.values("rule__name", "status", "error")),
        list(DomainEvent.objects.values("name", "delivered_at", "error")),
    )

    rep_page = new_page()
    sign_in("rep1", on=rep_page)
    expect(rep_page.get_by_test_id("home-assigned")).to_contain_text("湖州吴兴新能源有限公司")
