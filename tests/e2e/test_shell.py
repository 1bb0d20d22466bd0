"""The shell every page shares, driven through a real browser: sign in and out, the sidebar each
role sees, the language switch, refused accounts and the phone layout."""

import datetime
import re

import pytest
from django.utils import formats, timezone, translation
from playwright.sync_api import Page, expect

from crm.accounts.demo import DEMO_USERS
from crm.accounts.models import User
from crm.core import navigation

pytestmark = [
    pytest.mark.e2e,
    # The live server sees only committed rows; serialized_rollback gives every test the rows
    # data migrations wrote (role groups, regions), which the flush after each test removes.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

USERNAMES = ["admin", "manager", "rep1", "rep2", "agent1", "agent2", "supervisor", "analyst"]
ROLES = {username: role for username, _family, _given, role, *_rest in DEMO_USERS}
# The platform's own entries; domain apps add theirs, which the registry decides.
PLATFORM_ITEMS = ["home", "notifications", "approvals", "admin"]
PLATFORM_SIDEBAR = {username: ["home", "notifications", "approvals"] for username in USERNAMES}
PLATFORM_SIDEBAR["admin"] = PLATFORM_ITEMS


def expect_home(page: Page, live_server) -> None:
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="待我审批")).to_be_visible()


def expect_login_page(page: Page, live_server) -> None:
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/accounts/login/"))
    expect(page.get_by_role("heading", name="登录", exact=True)).to_be_visible()


@pytest.mark.parametrize("username", USERNAMES)
def test_each_demo_role_signs_in_and_sees_its_own_sidebar(
    page: Page, live_server, demo_users, sign_in, username
):
    user = demo_users[username]

    sign_in(username)

    expect_home(page, live_server)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_title(re.compile("^我的工作"))
    expect(page.get_by_test_id("current-user")).to_have_text(user.display_name)
    with translation.override("zh-hans"):
        role_label = str(ROLES[username].label)
    expect(page.get_by_test_id("role")).to_have_text([role_label])
    sidebar = page.get_by_test_id("sidebar")
    expect(sidebar).to_be_visible()
    expect(sidebar).to_contain_text("我的工作")
    links = sidebar.locator("[data-nav]")
    expect(links).not_to_have_count(0)
    shown = [link.get_attribute("data-nav") for link in links.all()]
    assert [key for key in shown if key in PLATFORM_ITEMS] == PLATFORM_SIDEBAR[username]
    assert shown == [item.key for item in navigation.items_for(user)]
    expect(sidebar.locator('[data-nav="home"]')).to_have_text("首页")
    expect(sidebar.locator('[data-nav="notifications"]')).to_have_text("消息通知")
    expect(sidebar.locator('[data-nav="approvals"]')).to_have_text("审批")
    if "admin" in shown:
        expect(sidebar.locator('[data-nav="admin"]')).to_have_text("系统管理")
    # On a desktop the sidebar is always shown, so the phone's menu button is not.
    expect(page.locator('button[aria-controls="sidebar"]')).to_be_hidden()


def test_switching_to_english_persists_and_switching_back_works(
    page: Page, new_page, live_server, demo_users, sign_in
):
    sign_in("rep1")
    expect_home(page, live_server)
    html = page.locator("html")
    sidebar = page.get_by_test_id("sidebar")
    expect(html).to_have_attribute("lang", "zh-hans")

    # Choosing a language submits the form by itself (static/js/crm.js).
    page.locator("#language-select").select_option("en")

    expect(html).to_have_attribute("lang", "en")
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Waiting for my decision")).to_be_visible()
    expect(page.get_by_test_id("language-form")).to_contain_text("Language")
    expect(sidebar).to_contain_text("My work")
    expect(sidebar.locator('[data-nav="home"]')).to_have_text("Home")
    demo_users["rep1"].refresh_from_db()
    assert demo_users["rep1"].language == "en"

    page.get_by_test_id("sidebar").locator('[data-nav="notifications"]').click()
    expect(page).to_have_url(f"{live_server.url}/notifications/")
    expect(html).to_have_attribute("lang", "en")
    expect(sidebar.locator('[data-nav="notifications"]')).to_have_text("Notifications")
    page.reload()
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator("#language-select")).to_have_value("en")
    # The account remembers it: signing in from another browser opens in English too.
    elsewhere = new_page()
    sign_in("rep1", on=elsewhere)
    expect(elsewhere.locator("html")).to_have_attribute("lang", "en")
    expect(elsewhere.get_by_role("heading", name="Waiting for my decision")).to_be_visible()

    page.locator("#language-select").select_option("zh-hans")

    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_url(f"{live_server.url}/notifications/")
    expect(sidebar).to_contain_text("我的工作")
    expect(sidebar.locator('[data-nav="notifications"]')).to_have_text("消息通知")
    expect(page.get_by_test_id("language-form")).to_contain_text("语言")
    page.goto("/")
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="待我审批")).to_be_visible()


def test_the_switch_button_changes_the_language_where_scripts_do_not_run(
    new_page, live_server, demo_users, sign_in
):
    page = new_page(java_script_enabled=False)
    sign_in("rep2", on=page)
    expect_home(page, live_server)

    page.locator("#language-select").select_option("en")
    page.get_by_test_id("language-form").get_by_role("button", name="切换").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Waiting for my decision")).to_be_visible()


def test_an_expired_account_is_refused_with_its_expiry_date(
    page: Page, live_server, demo_users, sign_in
):
    rep1: User = demo_users["rep1"]
    rep1.expires_on = timezone.localdate() - datetime.timedelta(days=1)
    rep1.save(update_fields=["expires_on"])

    sign_in("rep1")

    expiry = formats.date_format(rep1.expires_on, "Y-m-d")
    expect(
        page.get_by_text(f"此账号已于 {expiry} 过期。如仍需使用，请联系管理员延期。")
    ).to_be_visible()
    expect_login_page(page, live_server)
    page.goto("/")
    expect_login_page(page, live_server)


def test_a_deactivated_account_is_refused_with_a_message(
    page: Page, live_server, demo_users, sign_in
):
    agent1: User = demo_users["agent1"]
    agent1.is_active = False
    agent1.save(update_fields=["is_active"])

    sign_in("agent1")

    expect(page.get_by_text("此账号已停用，请联系管理员。")).to_be_visible()
    expect_login_page(page, live_server)
    page.goto("/")
    expect_login_page(page, live_server)


def test_signing_out_from_the_user_menu_returns_to_the_login_page(
    page: Page, live_server, demo_users, sign_in
):
    sign_in("manager")
    expect_home(page, live_server)

    page.get_by_test_id("current-user").click()
    page.get_by_role("button", name="退出登录").click()

    expect_login_page(page, live_server)
    page.goto("/")
    expect_login_page(page, live_server)


def test_on_a_phone_the_sidebar_hides_behind_the_menu_button(
    page: Page, live_server, demo_users, sign_in
):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in("agent2")
    expect_home(page, live_server)
    sidebar = page.get_by_test_id("sidebar")
    menu_button = page.locator('button[aria-controls="sidebar"]')
    expect(sidebar).to_be_hidden()
    expect(menu_button).to_be_visible()

    menu_button.click()

    expect(sidebar).to_be_visible()
    expect(sidebar.locator('[data-nav="home"]')).to_have_text("首页")
    sidebar.locator('[data-nav="notifications"]').click()
    expect(page).to_have_url(f"{live_server.url}/notifications/")
    expect(sidebar).to_be_hidden()
