"""Demo organisation: a sales and a service department and one user per role (DESIGN.md)."""

from django.conf import settings
from django.contrib.auth.models import Group

from crm.accounts.models import Region, Team, User
from crm.accounts.roles import Role
from crm.core import demo
from crm.core.models import CompanySettings

DEMO_USERS = [
    # username, family name, given name, role, team, region code
    ("admin", "系统", "管理员", Role.ADMIN, None, None),
    ("manager", "王", "经理", Role.SALES_MANAGER, "销售一组", "EAST"),
    ("rep1", "李", "明", Role.SALES_REP, "销售一组", "EAST"),
    ("rep2", "张", "伟", Role.SALES_REP, "销售二组", "SOUTH"),
    ("agent1", "陈", "静", Role.SERVICE_AGENT, "客服一组", "EAST"),
    ("agent2", "刘", "洋", Role.SERVICE_AGENT, "客服一组", "EAST"),
    ("supervisor", "赵", "敏", Role.SERVICE_SUPERVISOR, "客服部", "EAST"),
    ("analyst", "孙", "丽", Role.ANALYST, None, None),
]


def _team(name: str, kind: str, parent: Team | None) -> Team:
    team, _created = Team.objects.get_or_create(name=name, parent=parent, defaults={"kind": kind})
    return team


@demo.register(10, "organisation and users")
def seed_organisation() -> None:
    company = CompanySettings.load()
    if company.name != "示例科技有限公司":
        company.name = "示例科技有限公司"
        company.save()
    east = Region.objects.get(code="EAST")
    south = Region.objects.get(code="SOUTH")
    sales = _team("销售部", Team.Kind.DEPARTMENT, None)
    service = _team("客服部", Team.Kind.DEPARTMENT, None)
    teams = {
        "销售部": sales,
        "客服部": service,
        "销售一组": _team("销售一组", Team.Kind.GROUP, sales),
        "销售二组": _team("销售二组", Team.Kind.GROUP, sales),
        "客服一组": _team("客服一组", Team.Kind.GROUP, service),
    }
    regions = {"EAST": east, "SOUTH": south}
    users: dict[str, User] = {}
    for username, last_name, first_name, role, team_name, region_code in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, email=f"{username}@example.com")
            user.set_password(settings.DEMO_PASSWORD)
        user.last_name, user.first_name = last_name, first_name
        user.team = teams.get(team_name) if team_name else None
        user.region = regions.get(region_code) if region_code else None
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.save()
        user.groups.set([Group.objects.get(name=role.value)])
        users[username] = user
    # Heads: the manager leads sales group 1, the supervisor the service department.
    for team_name, head in [
        ("销售一组", users["manager"]),
        ("客服部", users["supervisor"]),
    ]:
        team = teams[team_name]
        if team.head_id != head.pk:
            team.head = head
            team.save(update_fields=["head"])
