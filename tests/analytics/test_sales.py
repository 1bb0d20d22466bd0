"""The sales dashboard's figures against the hand-counted world of conftest.py."""

import pytest
from django.urls import reverse

from analytics import dashboards
from analytics.forms import FilterForm
from tests.analytics.conftest import JUNE


def board_for(user, **params):
    dashboard = dashboards.get("sales")
    form = FilterForm({**JUNE, **params}, user=user, dimensions=dashboard.dimensions)
    assert form.is_valid(), form.errors
    scope = form.scope()
    return scope, dashboard.build(scope)


def values(chart, series=0):
    return [point.value for point in chart.series[series].points]


def test_the_funnel_counts_the_furthest_stage_each_opportunity_reached(pipeline_world, manager):
    _scope, board = board_for(manager)
    funnel = board.chart("funnel")
    assert funnel.categories == [
        "线索获取",
        "初步接触",
        "需求确认",
        "方案提交",
        "商务谈判",
        "合同签订",
    ]
    # o4 started at proposal and o1 skipped negotiation: both still passed the earlier steps.
    assert values(funnel) == [4, 3, 2, 2, 1, 1]
    table = funnel.table()
    assert [row[4].value for row in table.rows] == [None, 1, 1, 0, 1, 0]  # dropped off before
    assert table.rows[1][3].value == 75.0  # 3 of 4 went on to initial contact


def test_a_rep_s_funnel_excludes_other_teams_and_the_analyst_sees_all(
    pipeline_world, charlie, analyst
):
    assert values(board_for(charlie)[1].chart("funnel")) == [1, 1, 1, 0, 0, 0]
    assert values(board_for(analyst)[1].chart("funnel")) == [5, 4, 3, 2, 1, 1]


def test_win_rate_and_lost_reasons(pipeline_world, manager):
    _scope, board = board_for(manager)
    assert board.kpi("win_rate").value == 50.0  # o1 won, o2 lost
    lost = board.chart("lost_reasons")
    assert lost.categories == ["价格因素"]
    assert values(lost) == [1]


def test_average_time_in_each_stage(pipeline_world, manager):
    chart = board_for(manager)[1].chart("stage_time")
    days = dict(zip(chart.categories, values(chart), strict=True))
    assert days["线索获取"] == 2.0  # o1 and o2, two days each
    assert days["初步接触"] == 2.0
    assert days["需求确认"] == 2.0
    assert days["方案提交"] == 4.0  # o1, from day 6 to the order on day 10
    assert days["商务谈判"] is None


def test_sales_by_rep_and_by_product(pipeline_world, manager, alice):
    _scope, board = board_for(manager)
    sales = board.chart("sales")
    assert [series.name for series in sales.series] == [alice.display_name]
    assert sum(values(sales)) == 300000
    assert board.kpi("signed").value == 300000
    by_product = board_for(manager, by="product")[1].chart("sales")
    assert [series.name for series in by_product.series] == ["五轴加工中心"]


def test_the_weighted_pipeline_counts_open_opportunities(pipeline_world, manager):
    _scope, board = board_for(manager)
    # o3 (lead, 10%) and o4 (proposal, 60%), ¥100,000 each.
    assert board.kpi("weighted").value == 70000


def test_new_customers_and_leads_by_source(pipeline_world, manager):
    _scope, board = board_for(manager)
    chart = board.chart("new_customers")
    assert {
        series.name: sum(values(chart, index)) for index, series in enumerate(chart.series)
    } == {
        "展会推广": 1,
        "线上广告": 1,
    }
    sources = board.chart("sources").table()
    exhibition = next(row for row in sources.rows if row[0].value == "展会推广")
    assert exhibition[2].value == 1  # new customers
    assert exhibition[3].value == 1  # now won: o1's order made the customer won
    assert exhibition[4].value == 100.0


@pytest.mark.parametrize(
    ("chart_key", "index"),
    [("funnel", 0), ("funnel", 3), ("win_rate", None), ("new_customers", None)],
)
def test_each_drill_down_list_holds_the_point_s_count(
    pipeline_world, manager, client_for, chart_key, index
):
    _scope, board = board_for(manager)
    chart = board.chart(chart_key)
    points = [
        point for series in chart.series for point in series.points if point.url and point.value
    ]
    chosen = [points[index]] if index is not None else points
    client = client_for(manager)
    for point in chosen:
        response = client.get(point.url)
        assert response.status_code == 200
        assert response.context["page_obj"].paginator.count == point.value, point.url


def test_the_funnel_stage_opens_the_opportunities_that_reached_it(
    pipeline_world, manager, client_for
):
    scope, _board = board_for(manager)
    response = client_for(manager).get(scope.drill("funnel", reached="proposal"))
    names = {row[1][0][0] for row in response.context["rows"]}
    assert names == {"数控机床采购", "二期扩产"}
    assert reverse("analytics:records", args=["funnel"]) in scope.drill("funnel")
