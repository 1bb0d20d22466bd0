"""Shared fixtures. The organisation every test can lean on:

销售部 (department)
├── 销售一组 (head: manager)  alice (rep), bob (rep)
└── 销售二组                  charlie (rep)
客服部 (department, head: supervisor)
└── 客服一组                  agent
analyst, admin (no team)
"""

import pytest

from crm.accounts.models import Team, User
from crm.accounts.roles import Role
from tests.factories import TeamFactory, UserFactory


@pytest.fixture
def sales_department(db) -> Team:
    return TeamFactory(name="销售部", kind=Team.Kind.DEPARTMENT)


@pytest.fixture
def team_a(sales_department) -> Team:
    return TeamFactory(name="销售一组", parent=sales_department)


@pytest.fixture
def team_b(sales_department) -> Team:
    return TeamFactory(name="销售二组", parent=sales_department)


@pytest.fixture
def service_department(db) -> Team:
    return TeamFactory(name="客服部", kind=Team.Kind.DEPARTMENT)


@pytest.fixture
def service_group(service_department) -> Team:
    return TeamFactory(name="客服一组", parent=service_department)


@pytest.fixture
def alice(team_a) -> User:
    return UserFactory(username="alice", team=team_a, role=Role.SALES_REP)


@pytest.fixture
def bob(team_a) -> User:
    return UserFactory(username="bob", team=team_a, role=Role.SALES_REP)


@pytest.fixture
def charlie(team_b) -> User:
    return UserFactory(username="charlie", team=team_b, role=Role.SALES_REP)


@pytest.fixture
def manager(team_a) -> User:
    user = UserFactory(username="manager", team=team_a, role=Role.SALES_MANAGER)
    team_a.head = user
    team_a.save(update_fields=["head"])
    return user


@pytest.fixture
def agent(service_group) -> User:
    return UserFactory(username="agent", team=service_group, role=Role.SERVICE_AGENT)


@pytest.fixture
def supervisor(service_group) -> User:
    department = service_group.parent
    user = UserFactory(username="supervisor", team=department, role=Role.SERVICE_SUPERVISOR)
    department.head = user
    department.save(update_fields=["head"])
    return user


@pytest.fixture
def analyst(db) -> User:
    return UserFactory(username="analyst", role=Role.ANALYST)


@pytest.fixture
def admin_user(db) -> User:
    return UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def client_for(client):
    """Signs the test client in as the given user."""

    def sign_in(user: User):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: cached rows must not outlive a rolled-back test."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
