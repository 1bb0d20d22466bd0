import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from crm.accounts.models import Leave, Province, Region, Team, User
from crm.accounts.roles import Role
from crm.accounts.services import resolve_assignee
from tests.factories import PASSWORD, UserFactory

TODAY = datetime.date(2026, 5, 15)


def sign_in(client, username):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def test_an_expired_account_cannot_sign_in_and_is_told_why(client, alice):
    alice.expires_on = timezone.localdate() - datetime.timedelta(days=1)
    alice.save()

    response = sign_in(client, "alice")

    assert response.status_code == 200
    errors = response.context["form"].errors.as_data()["__all__"]
    assert [error.code for error in errors] == ["expired"]
    assert "_auth_user_id" not in client.session


def test_an_account_is_usable_until_the_end_of_its_expiry_day(client, alice):
    alice.expires_on = timezone.localdate()
    alice.save()

    assert sign_in(client, "alice").status_code == 302


def test_an_inactive_account_is_told_it_is_deactivated(client, alice):
    alice.is_active = False
    alice.save()

    response = sign_in(client, "alice")

    errors = response.context["form"].errors.as_data()["__all__"]
    assert [error.code for error in errors] == ["inactive"]


def test_a_wrong_password_is_refused(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    errors = response.context["form"].errors.as_data()["__all__"]
    assert [error.code for error in errors] == ["invalid_login"]


class TestThrottling:
    def wrong(self, client, username="alice", address="10.0.0.1"):
        return client.post(
            reverse("login"), {"username": username, "password": "nope"}, REMOTE_ADDR=address
        )

    def test_five_wrong_passwords_lock_the_account_from_that_address(self, client, alice, settings):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert self.wrong(client).status_code == 200
        locked = self.wrong(client)
        assert locked.status_code == 429
        assert "登录已锁定" in locked.content.decode()
        assert "15 分钟" in locked.content.decode()

        right = client.post(
            reverse("login"), {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1"
        )
        assert right.status_code == 429  # even the right password waits for the cool-off
        assert "_auth_user_id" not in client.session

    def test_the_lock_lifts_after_the_cool_off(self, client, alice, settings, time_machine):
        time_machine.move_to(datetime.datetime(2026, 5, 15, 2, 0, tzinfo=datetime.UTC))
        for _ in range(settings.AXES_FAILURE_LIMIT):
            self.wrong(client)
        time_machine.shift(settings.AXES_COOLOFF_TIME + datetime.timedelta(seconds=1))
        response = client.post(
            reverse("login"), {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1"
        )
        assert response.status_code == 302

    def test_another_address_or_account_is_not_locked(self, client, alice, bob, settings):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            self.wrong(client)
        assert self.wrong(client, address="10.0.0.2").status_code == 200
        response = client.post(
            reverse("login"), {"username": "bob", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1"
        )
        assert response.status_code == 302

    def test_a_success_resets_the_count(self, client, alice, settings):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            self.wrong(client)
        client.post(
            reverse("login"), {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1"
        )
        client.logout()
        assert self.wrong(client).status_code == 200


def test_a_session_ends_when_the_account_expires(client, alice):
    client.force_login(alice)
    assert client.get(reverse("home")).status_code == 200
    User.objects.filter(pk=alice.pk).update(expires_on=datetime.date(2020, 1, 1))

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_signing_in_switches_to_the_users_language(client, alice):
    alice.language = "en"
    alice.save()

    response = sign_in(client, "alice")

    assert response.cookies["crm_language"].value == "en"


def test_switching_language_is_remembered_on_the_account(client, alice):
    client.force_login(alice)

    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.language == "en"
    assert 'lang="en"' in client.get("/").content.decode()


class TestLeave:
    @pytest.fixture
    def on_leave(self, alice, bob):
        return Leave.objects.create(
            user=alice, starts_on=TODAY, ends_on=TODAY + datetime.timedelta(days=2), backup=bob
        )

    def test_a_user_on_leave_hands_assignments_to_the_backup(self, alice, bob, on_leave):
        assert resolve_assignee(alice, on=TODAY) == bob
        assert resolve_assignee(alice, on=TODAY + datetime.timedelta(days=2)) == bob

    def test_outside_the_leave_the_user_takes_their_own_work(self, alice, on_leave):
        assert resolve_assignee(alice, on=TODAY - datetime.timedelta(days=1)) == alice
        assert resolve_assignee(alice, on=TODAY + datetime.timedelta(days=3)) == alice

    def test_a_chain_of_backups_is_followed(self, alice, bob, charlie, on_leave):
        Leave.objects.create(user=bob, starts_on=TODAY, ends_on=TODAY, backup=charlie)
        assert resolve_assignee(alice, on=TODAY) == charlie

    def test_a_loop_of_backups_yields_nobody(self, alice, bob, on_leave):
        Leave.objects.create(user=bob, starts_on=TODAY, ends_on=TODAY, backup=alice)
        assert resolve_assignee(alice, on=TODAY) is None

    def test_inactive_or_expired_users_get_nothing(self, alice, bob, on_leave):
        bob.is_active = False
        bob.save()
        assert resolve_assignee(alice, on=TODAY) is None
        alice.expires_on = TODAY - datetime.timedelta(days=10)
        assert resolve_assignee(alice, on=TODAY - datetime.timedelta(days=1)) is None


def test_roles_exist_as_groups_with_their_permissions(db):
    names = set(Group.objects.values_list("name", flat=True))
    assert {role.value for role in Role} <= names
    manager_perms = set(
        Group.objects.get(name=Role.SALES_MANAGER).permissions.values_list("codename", flat=True)
    )
    assert {"view_user", "add_leave"} <= manager_perms
    admin_group = Group.objects.get(name=Role.ADMIN)
    assert (
        admin_group.permissions.count()
        >= Permission.objects.filter(content_type__app_label="accounts").count()
    )


def test_the_seven_sales_regions_and_their_provinces_are_loaded(db):
    assert Region.objects.count() == 8  # seven mainland regions plus HK / Macao / Taiwan
    assert Province.objects.get(name="浙江").region.code == "EAST"
    assert Province.objects.count() == 34


def test_a_teams_department_is_the_nearest_department_above(team_a, sales_department):
    sub = Team.objects.create(name="小组", parent=team_a)
    assert sub.department() == sales_department
    assert sales_department.department() == sales_department


def test_the_phone_is_encrypted_at_rest_and_found_by_blind_index(alice):
    alice.set_phone("138 1234 5678")
    alice.save()

    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [alice.pk])
        (raw,) = cursor.fetchone()
    assert "5678" not in raw
    assert raw.startswith("enc1:")
    alice.refresh_from_db()
    assert alice.phone == "138 1234 5678"
    assert alice.phone_last4 == "5678"
    from crm.core.phones import phone_index

    assert User.objects.get(phone_index=phone_index("+86 13812345678")) == alice


def test_user_changes_are_kept_in_history_with_who_made_them(admin_user, client, alice):
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[alice.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {key: value for key, value in form.initial.items() if value is not None}
    data.update(
        {
            "username": "alice",
            "last_name": "新",
            "first_name": "名字",
            "email": "alice@example.com",
            "language": "zh-hans",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "groups": [group.pk for group in alice.groups.all()],
            "team": alice.team_id,
        }
    )
    data.pop("password", None)
    data.pop("user_permissions", None)
    data.pop("last_login", None)
    data.pop("date_joined", None)
    data.pop("expires_on", None)
    data.pop("region", None)
    data["is_active"] = "on"

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    latest = alice.history.latest()
    assert latest.last_name == "新"
    assert latest.history_user == admin_user


def test_the_factory_password_works(alice):
    assert UserFactory._meta.model.objects.get(pk=alice.pk).check_password(PASSWORD)
