"""Demo service desk: 客服部's queue with both agents on duty, every category routed to it, and a
year of tickets in every state — closed (some after a reopen), awaiting confirmation, processing,
new, a few breached and one long past due with its delay explanation — with their log and
messages.

Repeatable: drawn from ``random.Random(2026)``; nothing is added once demo tickets exist. Rows
are bulk-created (no notifications, no emails); deadlines come from the real SLA policies and
business calendar.
"""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone

from crm.accounts.models import Team, User
from crm.core import demo
from crm.core.numbering import next_number
from customers.models import Contact
from tickets.models import (
    DelayExplanation,
    QueueAgent,
    ServiceQueue,
    Ticket,
    TicketCategory,
    TicketEvent,
    TicketMessage,
)
from tickets.services import NUMBER_PREFIX, sla_deadlines

SEED = 2026
COUNT = 240
DAYS = 365
Status = Ticket.Status

REQUESTS = {
    "服务质量类": [
        ("上门服务人员迟到两个小时", "约好上午九点上门，工程师十一点才到，也没有提前通知。"),
        ("客服电话长时间无人接听", "连续三天拨打客服热线都在排队，希望改进。"),
    ],
    "产品功能类": [
        ("报表导出数据不完整", "导出的月度报表缺少最后一周的数据，请尽快核查。"),
        ("移动端无法登录", "升级到最新版本后手机端一直提示网络错误。"),
    ],
    "售后投诉": [
        ("设备维修后再次故障", "上周维修的设备今天又出现同样的报警。"),
        ("配件发错型号", "收到的滤芯型号与订单不符，需要换货。"),
    ],
    "功能优化类": [("希望增加批量导入功能", "客户资料较多，逐条录入太慢，建议支持 Excel 导入。")],
    "服务体验类": [("建议提供微信通知", "工单进度希望能通过微信推送。")],
    "产品使用类": [
        ("如何设置审批流程", "想了解多级审批如何配置，是否有操作手册。"),
        ("账号权限如何分配", "新员工入职，需要开通只读权限。"),
    ],
    "合作政策类": [("代理商返点政策咨询", "想了解今年的渠道返点标准和结算周期。")],
    "技术咨询": [("接口对接咨询", "我们的 ERP 需要对接贵司系统，请提供接口文档。")],
    "账务咨询": [("发票抬头需要更正", "上月开具的增值税专用发票抬头有误，申请重开。")],
}
REPLIES = [
    "您好，已收到您的反馈，我们正在核查，今天内给您答复。",
    "您好，问题已定位，工程师将于明天上午上门处理。",
    "您好，已按您的要求处理完毕，请确认是否解决。",
]
NOTES = ["已联系产品部确认，属于已知问题。", "客户情绪较急，优先处理。", "需财务部协助核对账单。"]


def _ensure_queue() -> ServiceQueue | None:
    department = Team.objects.filter(name="客服部", kind=Team.Kind.DEPARTMENT).first()
    agents = list(User.objects.filter(username__in=["agent1", "agent2"]).order_by("username"))
    if department is None or not agents:
        return None
    queue, _created = ServiceQueue.objects.get_or_create(team=department)
    for order, agent in enumerate(agents, start=1):
        QueueAgent.objects.get_or_create(queue=queue, user=agent, defaults={"sort_order": order})
    TicketCategory.objects.filter(parent__isnull=True, queue__isnull=True).update(queue=queue)
    return queue


@demo.register(50, "service tickets")
@transaction.atomic
def seed_tickets() -> None:
    queue = _ensure_queue()
    if queue is None or Ticket.objects.exists():
        return
    categories = list(
        TicketCategory.objects.filter(parent__isnull=False, name__in=REQUESTS).select_related(
            "parent"
        )
    )
    contacts = list(Contact.objects.select_related("customer").order_by("pk")[:300])
    agents = list(queue.agents.order_by("username"))
    if not categories or not contacts or not agents:
        return
    rng = random.Random(SEED)  # noqa: S311 - repeatable demo data, not secrets
    now = timezone.now().replace(microsecond=0)
    events: list[TicketEvent] = []
    messages: list[TicketMessage] = []
    explanations: list[DelayExplanation] = []
    for index in range(COUNT):
        days_ago = DAYS - int(index * DAYS / COUNT)
        created = now - datetime.timedelta(days=days_ago, hours=rng.randint(-4, 4))
        category = rng.choice(categories)
        subject, description = rng.choice(REQUESTS[category.name])
        contact = rng.choice(contacts)
        priority = rng.choices(
            [category.default_priority, "urgent", "important"], weights=[6, 1, 2]
        )[0]
        response_due, resolution_due = sla_deadlines(
            start=created, priority=priority, category=category
        )
        agent = agents[index % len(agents)]
        channel = rng.choice([value for value, _label in Ticket.Channel.choices])
        status = _status_for(days_ago, rng)
        ticket = Ticket.objects.create(
            number=next_number(NUMBER_PREFIX, day=timezone.localdate(created)),
            subject=subject,
            description=description,
            category=category,
            priority=priority,
            channel=channel,
            customer=contact.customer,
            contact=contact,
            contact_name=contact.name,
            contact_phone=contact.phone or "",
            contact_email=contact.email or "",
            queue=queue,
            department=queue.team,
            assignee=None if status == Status.NEW and index % 2 else agent,
            created_by=None if channel == Ticket.Channel.PORTAL else agent,
            created_at=created,
            first_response_due=response_due,
            resolution_due=resolution_due,
        )
        events.append(_event(ticket, TicketEvent.Kind.CREATED, None, created, to=Status.NEW))
        if ticket.assignee_id:
            events.append(
                _event(ticket, TicketEvent.Kind.ASSIGNED, None, created, note=agent.display_name)
            )
        _progress(ticket, status, agent, rng, now, events, messages)
        if status == Status.PROCESSING and index % 7 == 0 and ticket.resolution_due < now:
            # Long past due: a delay explanation filed by its owner, for the supervisor to see.
            new_date = timezone.localdate(now) + datetime.timedelta(days=3)
            explanations.append(
                DelayExplanation(
                    ticket=ticket,
                    reason="等待厂家更换配件，预计三天内到货。",
                    new_date=new_date,
                    by=agent,
                    created_at=now - datetime.timedelta(hours=2),
                )
            )
            ticket.explained_until = new_date
            ticket.save(update_fields=["explained_until"])
    TicketEvent.objects.bulk_create(events, batch_size=1000)
    TicketMessage.objects.bulk_create(messages, batch_size=1000)
    DelayExplanation.objects.bulk_create(explanations)
    # Breaches of the past year count as announced: the first sweep must not flood the head.
    Ticket.objects.breached(now).update(response_breached_at=now, resolution_breached_at=now)


def _status_for(days_ago: int, rng: random.Random) -> str:
    if days_ago > 30:
        return rng.choices([Status.CLOSED, Status.PROCESSING], weights=[97, 3])[0]
    if days_ago > 7:
        return rng.choice([Status.CLOSED, Status.CLOSED, Status.AWAITING, Status.PROCESSING])
    return rng.choice([Status.NEW, Status.PROCESSING, Status.AWAITING, Status.CLOSED])


def _event(
    ticket: Ticket,
    kind: str,
    actor: User | None,
    at: datetime.datetime,
    *,
    to: str = "",
    source: str = "",
    note: str = "",
) -> TicketEvent:
    return TicketEvent(
        ticket=ticket,
        kind=kind,
        actor=actor,
        from_status=source,
        to_status=to,
        note=note,
        created_at=at,
    )


def _progress(
    ticket: Ticket,
    status: str,
    agent: User,
    rng: random.Random,
    now: datetime.datetime,
    events: list[TicketEvent],
    messages: list[TicketMessage],
) -> None:
    """Walks the ticket to ``status`` at plausible times: mostly on time, sometimes late."""
    if status == Status.NEW:
        return
    late = rng.random() < 0.15
    span = ticket.resolution_due - ticket.created_at
    answered = min(
        ticket.created_at + (ticket.first_response_due - ticket.created_at) * rng.uniform(0.1, 1.3),
        now,
    )
    messages.append(
        TicketMessage(
            ticket=ticket, kind="reply", author=agent, body=REPLIES[0], created_at=answered
        )
    )
    if rng.random() < 0.4:
        messages.append(
            TicketMessage(
                ticket=ticket,
                kind="note",
                author=agent,
                body=rng.choice(NOTES),
                created_at=answered,
            )
        )
    events.append(
        _event(ticket, "status", agent, answered, source=Status.NEW, to=Status.PROCESSING)
    )
    ticket.mark_first_response(answered)
    ticket.status = Status.PROCESSING
    if status != Status.PROCESSING:
        resolved = min(
            ticket.created_at + span * (rng.uniform(1.05, 1.6) if late else rng.uniform(0.2, 0.9)),
            now,
        )
        messages.append(
            TicketMessage(
                ticket=ticket, kind="reply", author=agent, body=REPLIES[2], created_at=resolved
            )
        )
        events.append(
            _event(ticket, "status", agent, resolved, source=Status.PROCESSING, to=Status.AWAITING)
        )
        ticket.status = Status.AWAITING
        ticket.resolved_at = ticket.paused_at = resolved
        ticket.mark_resolution(resolved)
    if status == Status.CLOSED and ticket.resolved_at is not None:
        closed = min(ticket.resolved_at + datetime.timedelta(days=rng.randint(0, 3)), now)
        messages.append(
            TicketMessage(
                ticket=ticket,
                kind="customer",
                author_name=ticket.contact_name,
                body="问题已解决，谢谢！",
                created_at=closed,
            )
        )
        events.append(
            _event(ticket, "status", None, closed, source=Status.AWAITING, to=Status.CLOSED)
        )
        ticket.status = Status.CLOSED
        ticket.closed_at = closed
    ticket.save(
        update_fields=[
            "status",
            "first_responded_at",
            "response_minutes",
            "resolved_at",
            "resolution_minutes",
            "paused_at",
            "closed_at",
        ]
    )
