"""The automation dashboard: triggers, matches, failures and assignment success per rule."""

from django.urls import reverse

from analytics import dashboards
from analytics.forms import FilterForm
from crm.automation.models import Condition
from crm.core import events
from tests.automation.test_engine import emit, make_rule, note  # noqa: F401


def test_it_counts_runs_matches_and_failed_assignments(note, analyst, client_for):  # noqa: F811
    failing = make_rule(actions=("fail",), name="分配失败规则")
    picky = make_rule((1, "title", Condition.Operator.CONTAINS, "不存在"), name="不命中规则")
    for _index in range(2):
        events.deliver(emit(note).pk)
    dashboard = dashboards.get("automation")
    form = FilterForm({"period": "30d"}, user=analyst, dimensions=[], people=False)
    assert form.is_valid()
    board = dashboard.build(form.scope())
    assert board.kpi("runs").value == 4
    assert board.kpi("match_rate").value == 50.0
    assert board.kpi("failures").value == 2
    assert board.kpi("assignment_success").value == 0.0
    rows = {row[0].value: row for row in board.chart("rules").table().rows}
    assert rows["分配失败规则"][4].value == 2
    assert rows["不命中规则"][2].value == 0
    failed = client_for(analyst).get(rows["分配失败规则"][4].url)
    assert failed.context["page_obj"].paginator.count == 2
    assert picky.runs.count() == 2
    assert failing.runs.count() == 2
    assert (
        client_for(analyst).get(reverse("analytics:dashboard", args=["automation"])).status_code
        == 200
    )
