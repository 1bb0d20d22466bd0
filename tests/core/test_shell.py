import re

import pytest
from django.urls import reverse

from crm.notifications.models import Notification


def nav_keys(html: str) -> list[str]:
    return re.findall(r'data-nav="([\w-]+)"', html)


# Analytics adds "analytics" (every role has a dashboard) and "action_plans" (everyone).
# The service desk adds "tickets" (service roles, analysts, admins) and its satisfaction
# report "tickets_satisfaction" (supervisors, managers, analysts, admins).
@pytest.mark.parametrize(
    ("who", "expected"),
    [
        # The pipeline (opportunities app): board, list and forecast for sales roles and
        # analysts; the finance view for managers, analysts and admins.
        (
            "alice",
            [
                "home",
                "followups",
                "followups_calendar",
                "customers",
                "opportunity_board",
                "opportunities",
                "forecast",
                "analytics",
                "action_plans",
                "notifications",
                "approvals",
            ],
        ),
        (
            "manager",
            [
                "home",
                "followups",
                "followups_calendar",
                "tickets_satisfaction",
                "customers",
                "customer_import",
                "opportunity_board",
                "opportunities",
                "forecast",
                "finance",
                "analytics",
                "action_plans",
                "notifications",
                "approvals",
            ],
        ),
        ("agent", ["home", "tickets", "analytics", "action_plans", "notifications", "approvals"]),
        (
            "supervisor",
            [
                "home",
                "tickets",
                "tickets_satisfaction",
                "analytics",
                "action_plans",
                "notifications",
                "approvals",
            ],
        ),
        (
            "analyst",
            [
                "home",
                "tickets",
                "tickets_satisfaction",
                "customers",
                "opportunity_board",
                "opportunities",
                "forecast",
                "finance",
                "analytics",
                "action_plans",
                "notifications",
                "approvals",
            ],
        ),
        (
            "admin_user",
            [
                "home",
                "followups",
                "followups_calendar",
                "tickets",
                "tickets_satisfaction",
                "customers",
                "customer_import",
                "opportunity_board",
                "opportunities",
                "forecast",
                "finance",
                "analytics",
                "action_plans",
                "notifications",
                "approvals",
                "admin",
                "automation_health",
            ],
        ),
    ],
)
def test_each_role_sees_its_own_sidebar(db, client, request, who, expected):
    user = request.getfixturevalue(who)
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    assert nav_keys(html) == expected


def test_the_shell_is_in_chinese_by_default(client, alice):
    client.force_login(alice)
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "我的工作" in html
    assert "销售代表" in html


def test_the_shell_speaks_english_when_chosen(client, alice):
    client.force_login(alice)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="en">' in html
    assert "My work" in html
    assert "Sales rep" in html


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.get(reverse("login")).status_code == 200


def test_the_home_page_costs_a_fixed_number_of_queries(
    client, alice, manager, django_assert_num_queries
):
    from crm.notifications.services import notify

    client.force_login(alice)
    client.get(reverse("home"))  # warm the company-settings cache
    # session, user, the user's roles (sidebar), unread count (navbar), then the panels:
    # approvals to decide, unread notifications, my requests, customers newly assigned to me,
    # follow-up tasks due today (their counts, then the first rows), my pipeline by stage
    # (opportunities: one grouped query)
    with django_assert_num_queries(11) as few:
        client.get(reverse("home"))
    for _ in range(10):
        notify([alice], "approval_decided", context={"request": None}, email=False)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("home"))
    assert Notification.objects.filter(recipient=alice).count() == 10


def test_password_change_page_uses_the_shell(client, alice):
    client.force_login(alice)
    response = client.get(reverse("password_change"))
    assert response.status_code == 200
    assert 'data-testid="sidebar"' in response.content.decode()


def test_the_admin_is_in_chinese_too(client, admin_user):
    client.force_login(admin_user)
    html = client.get(reverse("admin:index")).content.decode()
    assert "CRM 系统管理" in html
    for url in [
        "admin:accounts_user_changelist",
        "admin:accounts_team_changelist",
        "admin:accounts_leave_changelist",
        "admin:accounts_region_changelist",
        "admin:notifications_notification_changelist",
        "admin:approvals_approvalrequest_changelist",
        "admin:core_attachment_changelist",
        "admin:core_dailysequence_changelist",
    ]:
        assert client.get(reverse(url)).status_code == 200, url
    company = client.get(reverse("admin:core_companysettings_changelist"))
    assert company.status_code == 302
    assert client.get(company["Location"]).status_code == 200


def test_the_browsers_language_does_not_override_the_company_default(client, alice):
    client.force_login(alice)
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in html


def test_pages_carry_a_content_security_policy_without_inline_scripts(client, alice):
    client.force_login(alice)
    policy = client.get(reverse("home"))["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
