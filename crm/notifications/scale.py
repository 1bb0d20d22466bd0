"""Scale data set: a year of inbox (crm.core.scale). Every page counts the user's unread
notifications, and a user of a year's standing has thousands: reminders every working day,
escalations for managers, assignments and SLA warnings for the desk. Most are read; the last
days' mostly not.
"""

from __future__ import annotations

import datetime

from django.db import connection
from django.urls import reverse

from crm.accounts.roles import Role
from crm.core import scale
from crm.notifications.models import Notification

COLUMNS = ("recipient_id", "verb", "title", "body", "url", "created_at", "read_at", "email_wanted")
# What a role hears about on a working day, on average.
PER_DAY = {
    Role.SALES_REP: 4,
    Role.SALES_MANAGER: 6,
    Role.SERVICE_AGENT: 8,
    Role.SERVICE_SUPERVISOR: 6,
    Role.ANALYST: 1,
    Role.ADMIN: 1,
}
DAYS = 365
# verb, title, body; the link is the verb's app
MESSAGES = {
    Role.SALES_REP: [
        ("followup_before_task", "跟进提醒：{name}", "您与 {name} 的跟进任务即将到期。"),
        ("followup_overdue", "跟进逾期：{name}", "您与 {name} 的跟进任务已逾期。"),
        ("customer_assigned", "新客户分配：{name}", "{name} 已分配给您。"),
        ("opportunity_stale", "商机停留过久：{name}", "商机在当前阶段已停留较久。"),
    ],
    Role.SALES_MANAGER: [
        ("followup_overdue_escalation", "团队跟进逾期：{name}", "组员的跟进任务逾期。"),
        ("approval_requested", "待审批：{name} 资料变更", "请审批关键字段变更。"),
        ("order_overdue", "回款逾期：{name}", "分期款项已逾期。"),
    ],
    Role.SERVICE_AGENT: [
        ("ticket_assigned", "工单已分配给您：{name}", "请尽快处理。"),
        ("ticket_sla_warning", "工单即将超时：{name}", "响应时限将至。"),
        ("ticket_customer_message", "客户回复：{name}", "客户补充了信息。"),
    ],
    Role.SERVICE_SUPERVISOR: [
        ("ticket_sla_breached", "工单已超时：{name}", "工单已超出服务时限。"),
        ("survey_low_score", "低分评价：{name}", "客户给出了低分。"),
    ],
    Role.ANALYST: [("analytics_export_ready", "导出已就绪：{name}", "文件可下载。")],
    Role.ADMIN: [("automation_failure_rate", "自动化失败率偏高：{name}", "请检查规则。")],
}
LINKS = {
    "followup": "/followups/",
    "customer": "/customers/",
    "opportunity": "/opportunities/",
    "approval": "/approvals/",
    "order": "/opportunities/",
    "ticket": "/tickets/",
    "survey": "/tickets/",
    "analytics": "/analytics/",
    "automation": "/admin/",
}
NAMES = ["华为科技", "中科软件", "宁波海纳", "杭州示例", "苏州新材料", "成都安泰", "广州凯旋"]


def _clear_notifications() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM notifications_notification WHERE recipient_id IN "
            "(SELECT id FROM accounts_user WHERE username LIKE %s)",
            [f"{scale.USERNAME_PREFIX}%"],
        )


@scale.step(95, "notifications", clear=_clear_notifications)
def seed_notifications(context: scale.ScaleContext) -> None:
    rng = context.random
    now = context.now
    by_role: dict[str, list[int]] = context.shared["users_by_role"]
    day = datetime.timedelta(days=1)
    rows: list[tuple[object, ...]] = []
    for role, per_day in PER_DAY.items():
        messages = MESSAGES[role]
        for user in by_role.get(role.value, []):
            for _index in range(context.scaled(per_day * DAYS)):
                created = now - day * DAYS * rng.random() ** 1.5  # more of them lately
                verb, title, body = rng.choice(messages)
                url = LINKS[verb.split("_")[0]]
                name = rng.choice(NAMES)
                age = now - created
                unread = rng.random() < (0.7 if age < 3 * day else 0.1 if age < 30 * day else 0.01)
                read_at = None if unread else created + day * rng.random()
                rows.append(
                    (user, verb, title.format(name=name), body.format(name=name), url, created,
                     min(read_at, now) if read_at else None, False)
                )  # fmt: skip
    rows.sort(key=lambda row: row[5])  # in creation order: ids rise with time
    scale.copy_rows(Notification, COLUMNS, rows)
    scale.analyze(Notification)
    unread = sum(1 for row in rows if row[6] is None)
    context.log(f"{len(rows)} notifications, {unread} unread")


scale.page(
    "notifications",
    "list",
    roles=("rep", "manager", "agent"),
    url=lambda bench, role: reverse("notifications:list"),
)
scale.page(
    "notifications: unread",
    "list",
    roles=("rep", "manager", "agent"),
    url=lambda bench, role: reverse("notifications:list") + "?unread=1",
)
