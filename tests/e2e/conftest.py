"""Browser fixtures: one Chromium for the whole session, a fresh context (cookies, storage) per
test, pointed at pytest-django's live server.

These tests need ``transactional_db`` (the live server runs in another thread and only sees
committed rows), whose teardown flushes every table, including the rows data migrations wrote
(role groups, permissions, regions). Each test therefore uses ``serialized_rollback`` so that it
starts from the migrated state, and ``_migrated_rows_restored`` puts that state back after the
last of them, because with ``--reuse-db`` the next run's non-transactional tests start from
whatever this run left behind.
"""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connections
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from crm.accounts import demo as accounts_demo
from crm.accounts.models import User

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Playwright's default of 30 s would turn a wrong assertion into a long wait; the pages are local.
TIMEOUT_MS = 10_000

NewPage = Callable[..., Page]


@pytest.fixture(scope="session")
def _migrated_rows_restored(django_db_setup, django_db_blocker) -> Iterator[None]:
    yield
    with django_db_blocker.unblock():
        for connection in connections.all(initialized_only=True):
            contents = getattr(connection, "_test_serialized_contents", None)
            # Only when a transactional test's flush emptied the tables; loading the rows on top
            # of themselves would collide with their unique keys.
            if contents and not Group.objects.using(connection.alias).exists():
                connection.creation.deserialize_db_from_string(contents)


@pytest.fixture(scope="session")
def playwright(django_db_setup, django_db_blocker) -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}, which is not installed")
    before = {alias: connections[alias] for alias in connections}
    with sync_playwright() as instance:
        # Starting Playwright leaves this thread in a fresh contextvars context, and Django keeps
        # its connections in contextvars: the test database's connection objects are replaced
        # by new ones that lack what the test database setup stored on them, the migrated rows
        # that serialized_rollback reloads. Carry that over and close the stranded connections.
        for alias, old in before.items():
            new = connections[alias]
            if new is not old:
                if hasattr(old, "_test_serialized_contents"):
                    new._test_serialized_contents = old._test_serialized_contents
                old.close()
        yield instance
        # Before the context switches back: an open connection would keep the test database from
        # being dropped.
        with django_db_blocker.unblock():
            connections.close_all()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser: Browser, live_server, _migrated_rows_restored) -> Iterator[NewPage]:
    """Opens a page in a context of its own; keyword arguments override the context's options."""
    contexts: list[BrowserContext] = []

    def open_page(**options: Any) -> Page:
        # Our users' browsers ask for Chinese; the desktop size shows the sidebar, not the menu.
        context = browser.new_context(
            **{
                "base_url": live_server.url,
                "locale": "zh-CN",
                "timezone_id": settings.TIME_ZONE,
                "viewport": {"width": 1280, "height": 800},
                **options,
            }
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        # A script the Content Security Policy blocks, or one that throws, fails the test.
        page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(f"{page.url}: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )
        return page

    problems: list[str] = []
    yield open_page
    for context in contexts:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def page(new_page: NewPage) -> Page:
    return new_page()


@pytest.fixture
def demo_users(transactional_db) -> dict[str, User]:
    """The demo organisation's users by username, created by the real demo step."""
    accounts_demo.seed_organisation()
    return {
        user.username: user
        for user in User.objects.filter(username__in=[row[0] for row in accounts_demo.DEMO_USERS])
    }


@pytest.fixture
def sign_in(page: Page) -> Callable[..., None]:
    """Signs in through the login form, as a person would, on ``page`` unless told another."""

    def sign_in_as(username: str, *, on: Page | None = None) -> None:
        target = on or page
        target.goto("/accounts/login/")
        target.locator("#id_username").fill(username)
        target.locator("#id_password").fill(settings.DEMO_PASSWORD)
        target.get_by_role("button", name="登录", exact=True).click()

    return sign_in_as
