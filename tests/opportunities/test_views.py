"""The pipeline's screens: scope (charlie gets 404, the board's drop endpoint included), the
drop refused with a message, pinned query counts for board and list at any number of cards."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from crm.core.templatetags.crm import cny
from opportunities import services
from opportunities.models import ExportLog, LostReason, ObjectionType, OpportunityField, Stage

pytestmark = pytest.mark.django_db


def add_opportunities(customer, owner, make_opportunity, count):
    codes = ["lead", "initial_contact", "needs_confirmed", "proposal", "negotiation"]
    for index in range(count):
        make_opportunity(
            customer, owner, codes[index % 5], str(1000 * (index + 1)), name=f"机会{index}"
        )


@pytest.mark.parametrize(
    "name", ["detail", "edit", "order_create", "line_add", "competitor_add", "objection_add"]
)
def test_charlie_gets_404_on_alices_opportunity(client_for, charlie, opportunity, name):
    client = client_for(charlie)
    url = reverse(f"opportunities:{name}", args=[opportunity.pk])
    response = client.post(url) if name.endswith("_add") else client.get(url)
    assert response.status_code == 404


def test_charlie_gets_404_on_the_drop_endpoint(client_for, charlie, opportunity, stage):
    response = client_for(charlie).post(
        reverse("opportunities:move", args=[opportunity.pk]),
        {"stage": stage("negotiation").pk, "from": "board"},
    )
    assert response.status_code == 404
    opportunity.refresh_from_db()
    assert opportunity.stage.code == "proposal"


def test_charlie_gets_404_on_alices_order(client_for, charlie, won_order):
    client = client_for(charlie)
    assert client.get(reverse("opportunities:order", args=[won_order.pk])).status_code == 404
    for name in ("instalment_add", "receipt_add"):
        url = reverse(f"opportunities:{name}", args=[won_order.pk])
        assert client.post(url).status_code == 404


def test_the_board_drop_moves_and_rerenders_the_totals(client_for, alice, opportunity, stage):
    response = client_for(alice).post(
        reverse("opportunities:move", args=[opportunity.pk]),
        {"stage": stage("negotiation").pk, "from": "board", "filters": ""},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    opportunity.refresh_from_db()
    assert opportunity.stage.code == "negotiation"
    html = response.content.decode()
    assert 'data-testid="column-negotiation"' in html
    assert cny(Decimal("160000")) in html  # the column's weighted amount: 200,000 × 80 %


def test_a_drop_to_won_without_an_order_is_refused_with_a_message(
    client_for, alice, opportunity, stage
):
    response = client_for(alice).post(
        reverse("opportunities:move", args=[opportunity.pk]),
        {"stage": stage("won").pk, "from": "board"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert "请先录入订单" in response.content.decode()
    opportunity.refresh_from_db()
    assert opportunity.stage.code == "proposal"


def test_a_colleague_who_sees_but_may_not_change_is_refused(
    client_for, analyst, opportunity, stage
):
    response = client_for(analyst).post(
        reverse("opportunities:move", args=[opportunity.pk]),
        {"stage": stage("negotiation").pk, "from": "board"},
        HTTP_HX_REQUEST="true",
    )
    # A 403 that reloads the board (htmx swaps no 4xx), so the dragged card returns.
    assert response.status_code == 403
    assert response["HX-Refresh"] == "true"
    opportunity.refresh_from_db()
    assert opportunity.stage.code == "proposal"


@pytest.mark.parametrize("data", [{}, {"from": "detail"}])
def test_the_analyst_may_not_move_even_with_an_invalid_form(client_for, analyst, opportunity, data):
    response = client_for(analyst).post(reverse("opportunities:move", args=[opportunity.pk]), data)
    assert response.status_code == 403


@pytest.mark.parametrize("count", [1, 12])
def test_board_query_count_is_pinned(
    client_for, alice, alices_customer, make_opportunity, django_assert_num_queries, count
):
    add_opportunities(alices_customer, alice, make_opportunity, count)
    client = client_for(alice)
    client.get(reverse("opportunities:board"))  # warm the session and the cached dropdowns
    # session, user, roles, team tree; unread badge; column totals, cards (one UNION ALL of each
    # column's first cards; SQLite, which cannot, a query a column). The stages, custom field
    # definitions and the filter's stage, owner and team choices come from the cache.
    columns = Stage.objects.filter(is_active=True).count()
    cards = 1 if connection.features.supports_slicing_ordering_in_compound else columns
    with django_assert_num_queries(6 + cards):
        response = client.get(reverse("opportunities:board"))
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="card"') == count


def test_a_full_column_shows_its_latest_cards_and_links_the_rest(
    client_for, alice, alices_customer, make_opportunity, monkeypatch
):
    from opportunities import board

    monkeypatch.setattr(board, "CARDS_PER_COLUMN", 2)
    for index in range(3):
        make_opportunity(alices_customer, alice, "lead", name=f"线索{index}")
    make_opportunity(alices_customer, alice, "proposal", name="方案")

    response = client_for(alice).get(reverse("opportunities:board"), {"owner": alice.pk})

    columns = {column.stage.code: column for column in response.context["columns"]}
    assert [card.name for card in columns["lead"].cards] == ["线索2", "线索1"]
    assert (columns["lead"].count, columns["lead"].hidden) == (3, 1)
    assert [card.name for card in columns["proposal"].cards] == ["方案"]
    more = f"{reverse('opportunities:list')}?owner={alice.pk}&amp;stage={columns['lead'].stage.pk}"
    assert f'href="{more}"' in response.content.decode()


@pytest.mark.parametrize("count", [1, 30])
def test_list_query_count_is_pinned(
    client_for, alice, alices_customer, make_opportunity, django_assert_num_queries, count
):
    add_opportunities(alices_customer, alice, make_opportunity, count)
    client = client_for(alice)
    client.get(reverse("opportunities:list"))
    # session, user, roles, team tree; unread badge; count, page. Custom field definitions and
    # the filter's stage, owner and team choices come from the cache.
    with django_assert_num_queries(7):
        response = client.get(reverse("opportunities:list"))
    assert response.status_code == 200


def test_the_list_is_scoped(client_for, alice, charlie, make_customer, make_opportunity):
    make_opportunity(make_customer(alice), alice, name="甲项目")
    make_opportunity(make_customer(charlie, "丙公司"), charlie, name="丙项目")

    html = client_for(alice).get(reverse("opportunities:list")).content.decode()

    assert "甲项目" in html
    assert "丙项目" not in html


def test_the_board_filters_by_amount_and_close_month(
    client_for, alice, alices_customer, make_opportunity
):
    make_opportunity(
        alices_customer,
        alice,
        amount="5000",
        name="小单",
        expected_close_date=datetime.date(2026, 3, 1),
    )
    make_opportunity(
        alices_customer,
        alice,
        amount="900000",
        name="大单",
        expected_close_date=datetime.date(2026, 4, 1),
    )

    client = client_for(alice)
    html = client.get(reverse("opportunities:board"), {"amount_min": "10000"}).content.decode()
    assert "大单" in html
    assert "小单" not in html
    html = client.get(reverse("opportunities:board"), {"close_month": "2026-03"}).content.decode()
    assert "小单" in html
    assert "大单" not in html


def test_export_is_scoped_and_logged(client_for, alice, charlie, make_customer, make_opportunity):
    make_opportunity(make_customer(alice), alice, name="甲项目")
    make_opportunity(make_customer(charlie, "丙公司"), charlie, name="丙项目")

    response = client_for(alice).post(
        reverse("opportunities:export"), {"file_format": "csv", "query": ""}
    )

    content = response.content.decode("utf-8-sig")
    assert "甲项目" in content
    assert "丙项目" not in content
    assert ExportLog.objects.get(user=alice).row_count == 1


def test_an_agent_cannot_export(client_for, agent):
    assert client_for(agent).get(reverse("opportunities:export")).status_code == 403


def test_create_from_a_customer(client_for, alice, alices_customer, stage):
    response = client_for(alice).post(
        f"{reverse('opportunities:create')}?customer={alices_customer.pk}",
        {
            "name": "数据中心扩容",
            "stage": stage("initial_contact").pk,
            "amount": "88000",
            "expected_close_date": "2026-12-31",
        },
    )
    opportunity = alices_customer.opportunities.get()
    assert response.status_code == 302
    assert opportunity.owner == alice
    assert opportunity.stage.code == "initial_contact"


def test_create_with_bad_input_shows_errors(client_for, alice, alices_customer):
    response = client_for(alice).post(
        f"{reverse('opportunities:create')}?customer={alices_customer.pk}",
        {"name": "", "amount": "-5", "expected_close_date": "not a date"},
    )
    assert response.status_code == 200
    assert not alices_customer.opportunities.exists()


def test_charlie_cannot_create_on_alices_customer(client_for, charlie, alices_customer):
    url = f"{reverse('opportunities:create')}?customer={alices_customer.pk}"
    assert client_for(charlie).get(url).status_code == 404


def test_the_analyst_reads_but_may_not_create(client_for, analyst, alices_customer, stage):
    url = f"{reverse('opportunities:create')}?customer={alices_customer.pk}"
    client = client_for(analyst)
    assert client.get(url).status_code == 403
    response = client.post(
        url,
        {
            "name": "数据中心扩容",
            "stage": stage("initial_contact").pk,
            "amount": "88000",
            "expected_close_date": "2026-12-31",
        },
    )
    assert response.status_code == 403
    assert not alices_customer.opportunities.exists()


def test_detail_and_order_pages_render(client_for, alice, won_order):
    client = client_for(alice)
    services.instalment_add(
        order=won_order, by=alice, due_date=timezone.localdate(), amount=Decimal("1000")
    )
    detail = client.get(won_order.opportunity.get_absolute_url())
    order = client.get(won_order.get_absolute_url())
    assert detail.status_code == order.status_code == 200
    assert won_order.number in detail.content.decode()


def test_recording_a_receipt_through_the_page(client_for, alice, won_order):
    instalment = services.instalment_add(
        order=won_order, by=alice, due_date=timezone.localdate(), amount=Decimal("1000")
    )
    client_for(alice).post(
        reverse("opportunities:receipt_add", args=[won_order.pk]),
        {
            "receipt-instalment": instalment.pk,
            "receipt-amount": "400",
            "receipt-received_on": timezone.localdate().isoformat(),
        },
    )
    assert won_order.receipts.get().amount == Decimal("400")


@pytest.mark.parametrize("name", ["instalment_add", "receipt_add"])
def test_the_analyst_may_not_change_the_payment_plan(client_for, analyst, alice, won_order, name):
    instalment = services.instalment_add(
        order=won_order, by=alice, due_date=timezone.localdate(), amount=Decimal("1000")
    )
    client = client_for(analyst)
    url = reverse(f"opportunities:{name}", args=[won_order.pk])
    assert client.post(url).status_code == 403  # refused before the form is read
    data = {
        "plan-due_date": timezone.localdate().isoformat(),
        "plan-amount": "500",
        "receipt-instalment": instalment.pk,
        "receipt-amount": "400",
        "receipt-received_on": timezone.localdate().isoformat(),
    }
    assert client.post(url, data).status_code == 403
    assert won_order.instalments.count() == 1
    assert not won_order.receipts.exists()


def test_finance_is_for_managers_and_scoped(client_for, alice, manager, charlie, won_order):
    assert client_for(alice).get(reverse("opportunities:finance")).status_code == 403
    html = client_for(manager).get(reverse("opportunities:finance")).content.decode()
    assert won_order.number in html


def test_forecast_renders(client_for, alice, opportunity):
    response = client_for(alice).get(reverse("opportunities:forecast"))
    assert response.status_code == 200


def test_customer_and_home_panels(client_for, alice, opportunity):
    client = client_for(alice)
    panel = reverse("customers:panel", args=[opportunity.customer_id, "opportunities"])
    assert opportunity.name in client.get(panel).content.decode()
    assert 'data-testid="home-pipeline"' in client.get(reverse("home")).content.decode()


def test_bad_filter_input_is_no_error(client_for, alice, opportunity):
    client = client_for(alice)
    for name in ("board", "list", "forecast"):
        response = client.get(
            reverse(f"opportunities:{name}"),
            {"amount_min": "很多", "close_month": "2026-13", "owner": "x", "year": "abc"},
        )
        assert response.status_code == 200


def test_an_order_ending_before_it_is_signed_is_a_form_error(client_for, alice, opportunity):
    response = client_for(alice).post(
        reverse("opportunities:order_create", args=[opportunity.pk]),
        {"amount": "1000", "signed_on": "2026-05-01", "contract_ends_on": "2026-04-01"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["contract_ends_on"]
    opportunity.refresh_from_db()
    assert opportunity.stage.code == "proposal"


def test_losing_from_the_detail_page_needs_a_reason(client_for, alice, opportunity, stage):
    client = client_for(alice)
    url = reverse("opportunities:move", args=[opportunity.pk])

    response = client.post(url, {"stage": stage("lost").pk}, follow=True)
    opportunity.refresh_from_db()
    assert opportunity.stage.code == "proposal"
    assert any(message.level_tag == "error" for message in response.context["messages"])

    client.post(url, {"stage": stage("lost").pk, "lost_reason": LostReason.objects.first().pk})
    opportunity.refresh_from_db()
    assert opportunity.stage.code == "lost"


def test_custom_fields_are_validated_stored_and_filterable(
    client_for, alice, alices_customer, stage
):
    OpportunityField.objects.create(
        key="budget_source",
        label="资金来源",
        type="choice",
        choices="自有资金\n财政拨款",
        required=True,
    )
    client = client_for(alice)
    url = f"{reverse('opportunities:create')}?customer={alices_customer.pk}"
    fields = {"name": "智慧园区", "amount": "50000", "expected_close_date": "2026-12-01"}

    refused = client.post(url, fields)
    assert refused.status_code == 200
    assert refused.context["form"].errors["cf_budget_source"]

    client.post(url, {**fields, "cf_budget_source": "财政拨款"})
    opportunity = alices_customer.opportunities.get()
    assert opportunity.custom_data == {"budget_source": "财政拨款"}
    assert "财政拨款" in client.get(opportunity.get_absolute_url()).content.decode()
    listed = client.get(reverse("opportunities:list"), {"cf_budget_source": "自有资金"})
    assert "智慧园区" not in listed.content.decode()


# The forecast: session, user, roles, team tree, targets; open pipeline and won by month, by
# owner (and the owners' names); the teams' names (teams sum the owners); unread badge. The
# filter's dropdowns come from the cache.
@pytest.mark.parametrize(("page", "ceiling"), [("forecast", 12), ("finance", 15)])
def test_forecast_and_finance_cost_the_same_queries_for_few_or_many_deals(
    client_for, alice, manager, alices_customer, make_opportunity, page, ceiling
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(manager)
    url = reverse(f"opportunities:{page}")
    add_opportunities(alices_customer, alice, make_opportunity, 2)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add_opportunities(alices_customer, alice, make_opportunity, 20)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries) <= ceiling


def test_detail_query_count_is_pinned(client_for, alice, won_order, django_assert_num_queries):
    opportunity = won_order.opportunity
    client = client_for(alice)
    url = reverse("opportunities:detail", args=[opportunity.pk])
    client.get(url)  # warm the session and the cached dropdowns
    # session, user, roles, team tree; the opportunity; its order with payments, instalments;
    # unread badge; lines, objections, competitors, milestones, stage history. Custom fields,
    # stages, objection types and lost reasons come from the cache.
    with django_assert_num_queries(13):
        assert client.get(url).status_code == 200
    for index in range(4):
        services.line_add(
            opportunity=opportunity,
            by=alice,
            product=f"产品{index}",
            unit_price=Decimal(100),
            quantity=Decimal(2),
        )
        services.competitor_add(opportunity=opportunity, by=alice, name=f"对手{index}")
        services.objection_add(
            opportunity=opportunity,
            by=alice,
            type=ObjectionType.objects.first(),
            description=f"异议{index}",
        )
        services.instalment_add(
            order=won_order,
            by=alice,
            due_date=timezone.localdate() + datetime.timedelta(days=30 * (index + 1)),
            amount=Decimal(1000),
        )
    with django_assert_num_queries(13):
        assert client.get(url).status_code == 200


def test_the_cached_dropdowns_follow_the_dictionaries(client_for, alice, opportunity):
    client = client_for(alice)
    url = reverse("opportunities:detail", args=[opportunity.pk])
    client.get(url)
    ObjectionType.objects.create(code="security", name="数据安全顾虑")
    LostReason.objects.filter(code="price").update(is_active=False)  # no signal: stays cached
    LostReason.objects.filter(code="other").first().save()  # a save renews every list

    html = client.get(url).content.decode()

    assert "数据安全顾虑" in html
    assert "价格因素" not in html
