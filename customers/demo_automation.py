"""Demo automation: the rules of SPEC.md §5, a message template and a territory table."""

from crm.accounts.models import Region, Team, User
from crm.automation.models import Action, Condition, MessageTemplate, Rule
from crm.core import demo
from customers.models import Industry, Territory

NEW_LEAD_SUBJECT = "新线索待跟进：{{ record.name }}（{{ record.number }}）"
NEW_LEAD_BODY = """客户：{{ record.name }}（{{ record.number }}）
来源：{{ record.source|default:"—" }}　区域：{{ record.region|default:"—" }}
需求：{{ requirement|default:"—" }}
请于 {{ deadline|date:"Y-m-d H:i" }} 前完成首次跟进。"""
WELCOME_SUBJECT = "请向新客户发送欢迎资料：{{ record.name }}"
WELCOME_BODY = """{{ record.name }}（{{ record.number }}）信息完整，已按行业分配给您。
请在 {{ deadline|date:"Y-m-d H:i" }} 前发送公司介绍与产品资料。"""

Op = Condition.Operator


def _rule(name, order, conditions, actions, **fields):  # type: ignore[no-untyped-def]
    rule, created = Rule.objects.get_or_create(
        name=name, defaults={"trigger": "lead.captured", "order": order, **fields}
    )
    if not created:
        return rule
    for group, field, operator, value in conditions:
        Condition.objects.create(
            rule=rule, group=group, field=field, operator=operator, value=value
        )
    for position, action in enumerate(actions, start=1):
        Action.objects.create(rule=rule, order=position, **action)
    return rule


@demo.register(30, "automation rules")
def seed_rules() -> None:
    users = {
        user.username: user
        for user in User.objects.filter(username__in=["manager", "rep1", "rep2"])
    }
    group_1 = Team.objects.get(name="销售一组")
    group_2 = Team.objects.get(name="销售二组")
    if group_2.head_id is None:
        group_2.head = users["rep2"]
        group_2.save(update_fields=["head"])
    new_lead, _ = MessageTemplate.objects.get_or_create(
        code="new_lead", defaults={"subject": NEW_LEAD_SUBJECT, "body": NEW_LEAD_BODY}
    )
    welcome, _ = MessageTemplate.objects.get_or_create(
        code="welcome_material", defaults={"subject": WELCOME_SUBJECT, "body": WELCOME_BODY}
    )
    east = Region.objects.get(code="EAST")
    south = Region.objects.get(code="SOUTH")
    for region, industry_code, user in [
        (east, "I", users["rep1"]),
        (east, "C", users["manager"]),
        (south, None, users["rep2"]),
    ]:
        industry = Industry.objects.filter(code=industry_code).first() if industry_code else None
        Territory.objects.get_or_create(region=region, industry=industry, defaults={"user": user})
    notify_owner = {"type": "notify", "recipients": Action.Recipients.OWNER, "template": new_lead}
    _rule(
        "线上广告线索：华东转销售二组负责人",
        10,
        [(1, "source", Op.EQUALS, "online_ads"), (1, "region", Op.EQUALS, "EAST")],
        [
            {"type": "customers.assign_owner", "mode": "fixed", "user": group_2.head},
            {"type": "customers.set_follow_up_due", "hours": 48},
            {**notify_owner, "hours": 48},
        ],
        stop_after_match=True,
    )
    _rule(
        "展会企业采购线索：销售一部经理 24 小时内跟进",
        20,
        [(1, "source", Op.EQUALS, "exhibition"), (1, "tags", Op.CONTAINS, "企业采购")],
        [
            {"type": "customers.assign_owner", "mode": "fixed", "user": users["manager"]},
            {"type": "customers.set_follow_up_due", "hours": 24},
            {**notify_owner, "hours": 24},
        ],
        stop_after_match=True,
    )
    _rule(
        "信息完整的新线索：按行业分配并发送欢迎资料",
        30,
        [
            (1, "status", Op.EQUALS, "to_be_assigned"),
            (1, "region", Op.NOT_EMPTY, ""),
            (1, "industry", Op.NOT_EMPTY, ""),
        ],
        [
            {"type": "customers.assign_owner", "mode": "territory"},
            {
                "type": "notify",
                "recipients": Action.Recipients.OWNER,
                "template": welcome,
                "hours": 72,
            },
        ],
        stop_after_match=True,
    )
    _rule(
        "其余线索：销售一组轮流分配",
        90,
        [(1, "status", Op.EQUALS, "to_be_assigned")],
        [
            {"type": "customers.assign_owner", "mode": "round_robin", "team": group_1},
            {"type": "customers.set_follow_up_due", "hours": 48},
            {**notify_owner, "hours": 48},
        ],
    )
    _rule(
        "48 小时后仍未分配的线索：提醒销售经理",
        100,
        [(1, "status", Op.EQUALS, "to_be_assigned")],
        [
            {
                "type": "notify",
                "recipients": Action.Recipients.ROLE,
                "role": "sales_manager",
                "template": new_lead,
                "hours": 24,
            }
        ],
        delay_hours=48,
    )
