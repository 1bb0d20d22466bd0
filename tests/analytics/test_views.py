"""The dashboard pages: who may open which (404 otherwise), the filter with bad input, pinned
query counts, the cache keyed by scope, the drill-down lists and their exports."""

import pytest
from django.urls import reverse

from analytics import rollups
from analytics.models import ExportLog, ExportRequest
from crm.approvals.models import ApprovalRequest
from crm.approvals.services import approval_decide
from tests.analytics.conftest import JUNE

ROLES = ["alice", "manager", "agent", "supervisor", "analyst", "admin_user"]
ALLOWED = {
    "sales": {"alice", "manager", "analyst", "admin_user"},
    "customers": {"alice", "manager", "analyst", "admin_user"},
    "service": {"agent", "supervisor", "analyst", "admin_user"},
    "automation": {"analyst", "admin_user"},
}


@pytest.mark.parametrize("key", ALLOWED)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_only_its_dashboards(request, client_for, role, key, team_a, service_group):
    user = request.getfixturevalue(role)
    response = client_for(user).get(reverse("analytics:dashboard", args=[key]))
    assert response.status_code == (200 if role in ALLOWED[key] else 404)


def test_an_unknown_dashboard_or_list_is_404(client_for, analyst):
    client = client_for(analyst)
    assert client.get(reverse("analytics:dashboard", args=["nope"])).status_code == 404
    assert client.get(reverse("analytics:records", args=["nope"])).status_code == 404


def test_the_index_opens_the_first_dashboard_of_the_role(client_for, agent, alice):
    assert client_for(agent).get(reverse("analytics:index"))["Location"].endswith("/service/")
    assert client_for(alice).get(reverse("analytics:index"))["Location"].endswith("/sales/")


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(reverse("analytics:dashboard", args=["sales"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_drill_down_list_of_another_role_is_404(client_for, agent):
    assert client_for(agent).get(reverse("analytics:records", args=["funnel"])).status_code == 404


def test_a_rep_cannot_narrow_to_another_team(pipeline_world, client_for, alice, charlie):
    """A rep's dashboard is their own: a team or person in the query string is refused on the
    form and the figures stay theirs."""
    response = client_for(charlie).get(
        reverse("analytics:dashboard", args=["sales"]),
        {**JUNE, "owner": alice.pk, "team": alice.team_id},
    )
    assert response.status_code == 200
    funnel = response.context["board"].chart("funnel")
    assert funnel.series[0].points[0].value == 1  # charlie's o5 only
    assert "数控机床采购" not in response.content.decode()


def test_a_manager_narrows_to_a_rep_of_the_team(pipeline_world, client_for, manager, alice):
    response = client_for(manager).get(
        reverse("analytics:dashboard", args=["sales"]), {**JUNE, "owner": alice.pk}
    )
    assert response.context["scope"].owner == alice
    outside = client_for(manager).get(
        reverse("analytics:dashboard", args=["sales"]),
        {**JUNE, "owner": pipeline_world["o5"].owner_id},
    )
    # charlie is not in the manager's team: the choice is invalid and the scope stays the team's.
    assert outside.context["scope"].owner is None
    assert "owner" in outside.context["form"].errors


@pytest.mark.parametrize(
    "params",
    [
        {"period": "custom", "start": "2026-06-30", "end": "2026-06-01"},
        {"period": "custom", "start": "not a date"},
        {"period": "forever"},
        {"by": "<script>"},
        {"period": "custom", "start": "2000-01-01", "end": "2026-01-01"},
    ],
)
def test_bad_filters_are_explained_on_the_form_never_a_500(client_for, manager, params):
    response = client_for(manager).get(reverse("analytics:dashboard", args=["sales"]), params)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert 'class="invalid-feedback' in response.content.decode()


@pytest.mark.parametrize(
    "params", [{"month": "2026-13"}, {"source": "abc"}, {"reached": "nowhere"}, {"day": "x"}]
)
def test_a_malformed_drill_down_point_is_404(client_for, manager, params):
    for dataset in ("new_customers", "funnel"):
        response = client_for(manager).get(reverse("analytics:records", args=[dataset]), params)
        assert response.status_code in (200, 404)
    response = client_for(manager).get(reverse("analytics:records", args=["new_customers"]), params)
    assert response.status_code == (404 if set(params) & {"month", "source", "day"} else 200)


# Each: session, user, roles, unread badge (+ the team tree below company-wide reach), then the
# dashboard's own grouped queries, one per figure (its dropdowns and labels come from the cache):
# sales: customers and leads by month and source, channel spend, funnel, won/lost per month and
# lost reason (one query), pipeline by month, sales by month and rep, time in stage;
# customers: tiers, lifecycle moves, records by month and method (from the daily rollup),
# task timeliness (the rollup's days, and today's tasks);
# service: created per day and group with breaches (one query), closed per day, response and
# resolution percentiles by group (one query), the overall median response, CSAT/NPS per month,
# backlog by age;
# automation: runs by rule and by day.
@pytest.mark.parametrize(
    ("key", "role", "count"),
    [
        ("sales", "analyst", 12),
        ("sales", "manager", 13),
        ("customers", "analyst", 9),
        ("customers", "manager", 10),
        ("service", "analyst", 10),
        ("service", "supervisor", 11),
        ("automation", "analyst", 6),
    ],
)
def test_dashboard_query_counts_are_pinned(
    request, pipeline_world, client_for, django_assert_num_queries, settings, key, role, count
):
    settings.ANALYTICS_CACHE_SECONDS = 0  # every request builds the figures
    client = client_for(request.getfixturevalue(role))
    url = reverse("analytics:dashboard", args=[key])
    client.get(url, JUNE)  # fills the dropdowns' and dictionaries' caches
    if key == "customers" and not rollups.available():
        count -= 1  # SQLite counts the tasks of every day at once, with no rollup
    with django_assert_num_queries(count):
        response = client.get(url, JUNE)
    assert response.status_code == 200


def test_a_cached_dashboard_runs_no_figure_query(
    pipeline_world, client_for, manager, django_assert_max_num_queries
):
    client = client_for(manager)
    url = reverse("analytics:dashboard", args=["sales"])
    client.get(url, JUNE)
    # session, user, roles, team tree (the scope), unread badge
    with django_assert_max_num_queries(5):
        client.get(url, JUNE)


def test_no_cache_time_builds_every_request_even_over_an_entry(
    pipeline_world, client_for, manager, settings
):
    client = client_for(manager)
    url = reverse("analytics:dashboard", args=["sales"])
    client.get(url, JUNE)  # cached for the default five minutes
    settings.ANALYTICS_CACHE_SECONDS = 0
    assert "board" in client.get(url, JUNE).context  # built, not read back


def test_the_cache_never_serves_one_scope_to_another(pipeline_world, client_for, manager, charlie):
    url = reverse("analytics:dashboard", args=["sales"])
    first = client_for(manager).get(url, JUNE).context["board"]
    second = client_for(charlie).get(url, JUNE).context["board"]
    assert first.kpi("new_customers").value == 2
    assert second.kpi("new_customers").value == 1
    again = client_for(manager).get(url, JUNE)  # from the cache: the figures as HTML
    assert "board" not in again.context
    assert again.content.decode().count('data-testid="kpi-value"') == 5
    kpis = again.content.decode().split('data-testid="kpi-value"')[1]
    assert ">2</a>" in kpis


def test_charts_carry_their_data_and_a_table_beside_them(pipeline_world, client_for, manager):
    page = client_for(manager).get(reverse("analytics:dashboard", args=["sales"]), JUNE)
    body = page.content.decode()
    assert 'id="option-funnel" type="application/json"' in body
    assert 'data-testid="table-funnel"' in body
    assert "¥30.0万" in body  # CNY in 万 for a large figure


def test_a_table_exports_at_once_and_is_logged(pipeline_world, client_for, manager):
    response = client_for(manager).get(
        reverse("analytics:table_export", args=["sales"]),
        {**JUNE, "chart": "funnel", "format": "csv"},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="sales-funnel-')
    content = response.content.decode("utf-8-sig")
    assert "线索获取,4" in content
    log = ExportLog.objects.get()
    assert (log.user, log.what, log.row_count, log.contact_data) == (
        manager,
        "sales.funnel",
        6,
        False,
    )
    assert len(log.sha256) == 64


def test_reps_and_agents_may_not_export(pipeline_world, client_for, alice):
    response = client_for(alice).get(
        reverse("analytics:table_export", args=["sales"]), {"chart": "funnel", "format": "csv"}
    )
    assert response.status_code == 403
    assert not ExportLog.objects.exists()


def test_a_list_without_contact_data_exports_at_once(pipeline_world, client_for, manager):
    client = client_for(manager)
    response = client.post(
        reverse("analytics:records_export", args=["funnel"]),
        {
            "query": "period=custom&start=2026-06-01&end=2026-06-30&reached=proposal",
            "format": "xlsx",
        },
    )
    assert response.status_code == 200
    assert ExportLog.objects.get().row_count == 2


def test_a_list_with_contact_data_needs_approval_then_downloads_once(
    pipeline_world, client_for, alice, manager, supervisor, service_group, admin_user
):
    """Leads hold contact names: the manager's export goes to their head (an admin here) for
    approval, then downloads once."""
    client = client_for(manager)
    url = reverse("analytics:records_export", args=["leads"])
    query = "period=custom&start=2026-06-01&end=2026-06-30"
    refused = client.post(url, {"query": query, "format": "csv", "reason": ""})
    assert refused.status_code == 200
    assert refused.context["form"].errors
    assert (
        client.post(url, {"query": query, "format": "csv", "reason": "展会复盘"}).status_code == 302
    )
    export_request = ExportRequest.objects.get()
    assert export_request.state == ExportRequest.State.PENDING
    approval = ApprovalRequest.objects.get(kind="analytics.export")
    approval_decide(request=approval, by=approval.approver, approve=True)
    export_request.refresh_from_db()
    download = client.get(export_request.download_url())
    assert download.status_code == 200
    log = ExportLog.objects.get()
    assert log.contact_data
    assert log.export_request == export_request
    assert client.get(export_request.download_url()).status_code == 404  # once
    assert client_for(alice).get(export_request.download_url()).status_code == 404


def test_the_export_requests_page_lists_only_mine(client_for, manager, charlie):
    response = client_for(charlie).get(reverse("analytics:exports"))
    assert response.status_code == 200
