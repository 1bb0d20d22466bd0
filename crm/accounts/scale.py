"""Scale data set: 50 users in a team tree with every role (crm.core.scale).

销售部 (head: director)
├── 华东大区 (head: a regional manager) ── 销售一组, 销售二组 (each: a group manager, 8 reps)
└── 华南大区 (head: a regional manager) ── 销售三组, 销售四组
客服部 (head: a supervisor) ── 客服一组, 客服二组 (3 agents each; the second has a supervisor)
two analysts and an administrator without a team.

Users are named ``scale-…`` and get an unusable password: the benchmark signs them in directly,
and a person who wants to look around sets one with ``manage.py changepassword``.
"""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from crm.accounts.models import Region, Team, User
from crm.accounts.roles import Role
from crm.core import scale

P = scale.USERNAME_PREFIX
FAMILY_NAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_NAMES = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
]

# The users the benchmark signs in as (crm.core.scale.BENCH_ROLES).
BENCH_USERS = {
    "rep": f"{P}rep-02",  # a rep with an average book (rep-01 carries four times as much)
    "manager": f"{P}manager-1",
    "agent": f"{P}agent-1",
    "analyst": f"{P}analyst-1",
    "supervisor": f"{P}supervisor-1",  # heads the service department
}


def _team(name: str, kind: str, parent: Team | None, region: Region | None = None) -> Team:
    team, _created = Team.objects.update_or_create(
        name=name, parent=parent, defaults={"kind": kind, "region": region}
    )
    return team


def _foreign_users() -> bool:
    return User.objects.exclude(username__startswith=P).exists()


@scale.step(10, "organisation and users", foreign=_foreign_users)
def seed_users(context: scale.ScaleContext) -> None:
    regions = {region.code: region for region in Region.objects.all()}
    east, south = regions.get("EAST"), regions.get("SOUTH")
    sales = _team("销售部", Team.Kind.DEPARTMENT, None)
    service = _team("客服部", Team.Kind.DEPARTMENT, None)
    east_area = _team("华东大区", Team.Kind.GROUP, sales, east)
    south_area = _team("华南大区", Team.Kind.GROUP, sales, south)
    groups = [
        _team("销售一组", Team.Kind.GROUP, east_area, east),
        _team("销售二组", Team.Kind.GROUP, east_area, east),
        _team("销售三组", Team.Kind.GROUP, south_area, south),
        _team("销售四组", Team.Kind.GROUP, south_area, south),
    ]
    service_groups = [
        _team("客服一组", Team.Kind.GROUP, service),
        _team("客服二组", Team.Kind.GROUP, service),
    ]
    # username, role, team, heads
    people: list[tuple[str, Role, Team | None, Team | None]] = [
        (f"{P}director", Role.SALES_MANAGER, sales, sales),
        (f"{P}area-east", Role.SALES_MANAGER, east_area, east_area),
        (f"{P}area-south", Role.SALES_MANAGER, south_area, south_area),
    ]
    people += [
        (f"{P}manager-{number}", Role.SALES_MANAGER, group, group)
        for number, group in enumerate(groups, start=1)
    ]
    people += [
        (f"{P}rep-{number + 1:02d}", Role.SALES_REP, groups[number // 8], None)
        for number in range(32)
    ]
    people.append((f"{P}supervisor-1", Role.SERVICE_SUPERVISOR, service, service))
    people.append((f"{P}supervisor-2", Role.SERVICE_SUPERVISOR, service_groups[1], None))
    people += [
        (f"{P}agent-{number + 1}", Role.SERVICE_AGENT, service_groups[number // 3], None)
        for number in range(6)
    ]
    people += [
        (f"{P}analyst-1", Role.ANALYST, None, None),
        (f"{P}analyst-2", Role.ANALYST, None, None),
        (f"{P}admin", Role.ADMIN, None, None),
    ]
    password = make_password(None)  # unusable
    roles = {group.name: group for group in Group.objects.all()}
    by_role: dict[str, list[int]] = {}
    for index, (username, role, team, heads) in enumerate(people):
        user, _created = User.objects.update_or_create(
            username=username,
            defaults={
                "email": f"{username}@example.com",
                "last_name": FAMILY_NAMES[index % len(FAMILY_NAMES)],
                "first_name": GIVEN_NAMES[index % len(GIVEN_NAMES)],
                "team": team,
                "region": team.region if team else None,
                "is_staff": role == Role.ADMIN,
                "is_superuser": role == Role.ADMIN,
                "password": password,
            },
        )
        user.groups.set([roles[role.value]])
        if heads is not None and heads.head_id != user.pk:
            heads.head = user
            heads.save(update_fields=["head"])
        by_role.setdefault(role.value, []).append(user.pk)
    context.shared["users_by_role"] = by_role
    context.shared["reps"] = by_role[Role.SALES_REP.value]
    context.log(f"{len(people)} users in {Team.objects.count()} teams")


@scale.prepare
def bench_users(bench: scale.BenchContext) -> None:
    users = {user.username: user for user in User.objects.filter(username__in=BENCH_USERS.values())}
    missing = set(BENCH_USERS.values()) - set(users)
    if missing:
        raise LookupError(
            "Run `manage.py seed_scale` first: no users " + ", ".join(sorted(missing))
        )
    bench.users.update({role: users[username] for role, username in BENCH_USERS.items()})
