"""Scale data set and benchmark of the pipeline (crm.core.scale).

Per 100,000 customers about 50,000 opportunities over the last 18 months: a won deal for each won
customer, signed on the customer's last cooperation date, plus open and lost ones, mostly on
intention customers. Each walks the open stages at plausible intervals (its stage history), some
with line items, a competitor and an objection. Won deals have an order (about 20,000) with one to
three instalments and the receipts paid so far; fully paid orders moved on to "payment collected";
lost ones carry a reason. Reminders a live system has already sent are marked as sent: the stale
reminder for stays that went stale more than two days ago, the overdue notice for instalments due
before that, so the sweeps meet a day's backlog.

Generated rows are those of generated customers (``SC…``); orders are numbered ``SCSO…``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from crm.accounts.models import Team, User
from crm.core import scale
from customers.models import Customer
from opportunities import reminders
from opportunities.models import (
    Competitor,
    Instalment,
    LostReason,
    Objection,
    ObjectionType,
    Opportunity,
    OpportunityLine,
    Order,
    OrderLine,
    Receipt,
    SalesTarget,
    Stage,
    StageVisit,
)

ORDER_PREFIX = f"{scale.CUSTOMER_NUMBER_PREFIX}SO"
WINDOW_DAYS = 548  # 18 months
# Days the owner takes for a stage before moving on.
STAGE_DAYS = (3, 25)
# Reminders due within this long before the data set's "now" are the sweeps' backlog.
BACKLOG = datetime.timedelta(days=2)
PRODUCTS = [
    ("CRM 专业版年度许可", Decimal("1200.00")),
    ("实施与数据迁移服务", Decimal("30000.00")),
    ("工业网关设备", Decimal("8500.00")),
    ("运维服务包（年）", Decimal("24000.00")),
    ("定制开发（人天）", Decimal("2500.00")),
    ("数据分析模块", Decimal("15000.00")),
    ("培训服务（场）", Decimal("6000.00")),
]
NAMES = ["数字化升级项目", "设备采购", "年度服务续约", "二期扩容", "试点项目", "系统集成项目"]
NEXT_STEPS = ["约见决策人确认方案细节", "发送修订报价", "安排技术交流", "推进合同评审", ""]
COMPETITORS = [
    ("用友", "品牌知名度高，财务模块成熟", "实施周期长，价格偏高"),
    ("金蝶", "中小企业客户多，报价灵活", "定制能力有限"),
    ("纷享销客", "移动端体验好", "行业方案较少"),
    ("销售易", "大客户案例多", "价格高"),
]
OBJECTIONS = [
    ("price", "报价超出今年预算约 20%。", "提供分期付款并拆分二期实施。", "同意内部再评估。"),
    ("function", "希望支持与现有 ERP 的双向同步。", "安排技术团队演示接口方案。", "基本认可。"),
    ("timeline", "担心上线周期影响旺季业务。", "提出分阶段上线计划。", ""),
    ("service", "担心本地没有售后团队。", "说明区域服务网点和响应时效。", "需要书面承诺。"),
]
LOST_NOTES = ["客户选择了报价更低的供应商。", "项目预算被砍。", "决策人变更，项目搁置。", ""]
# Opportunities a customer of each type has: (chance of a won deal, of an open one, of a lost
# one). Won customers always have their won deal.
OUTCOMES = {
    Customer.Type.WON: (1.0, 0.15, 0.15),
    Customer.Type.INTENTION: (0.0, 0.6, 0.1),
    Customer.Type.POTENTIAL: (0.0, 0.12, 0.05),
    Customer.Type.LOST: (0.0, 0.0, 0.5),
}
COMPANY_TARGET = Decimal("60000000")
TEAM_TARGET = Decimal("15000000")

OPPORTUNITY_COLUMNS = [
    "id", "customer_id", "name", "owner_id", "stage_id", "amount", "amount_from_lines",
    "expected_close_date", "source_id", "next_step", "lost_reason_id", "lost_note",
    "custom_data", "closed_at", "stage_entered_at", "touched_at", "created_by_id", "created_at",
]  # fmt: skip
VISIT_COLUMNS = [
    "opportunity_id", "stage_id", "from_stage_id", "entered_at", "left_at", "by_id",
    "stale_reminded_at",
]  # fmt: skip
LINE_COLUMNS = ["opportunity_id", "product", "unit_price", "quantity"]
ORDER_COLUMNS = [
    "id", "number", "opportunity_id", "customer_id", "owner_id", "amount", "signed_on",
    "contract_ends_on", "notes", "created_by_id", "created_at",
]  # fmt: skip
INSTALMENT_COLUMNS = ["id", "order_id", "due_date", "amount", "note", "paid_at",
                      "overdue_notified_at"]  # fmt: skip
RECEIPT_COLUMNS = ["order_id", "instalment_id", "amount", "received_on", "reference",
                   "recorded_by_id", "created_at"]  # fmt: skip

GENERATED = "SELECT id FROM customers_customer WHERE number LIKE %s"


def _foreign_pipeline() -> bool:
    marker = scale.CUSTOMER_NUMBER_PREFIX
    return Opportunity.objects.exclude(customer__number__startswith=marker).exists()


def _clear_pipeline() -> None:
    marker = [scale.CUSTOMER_NUMBER_PREFIX + "%"]
    opportunities = f"SELECT id FROM opportunities_opportunity WHERE customer_id IN ({GENERATED})"  # noqa: S608
    orders = f"SELECT id FROM opportunities_order WHERE customer_id IN ({GENERATED})"  # noqa: S608
    with connection.cursor() as cursor:
        for table, key, rows in [
            ("opportunities_receipt", "order_id", orders),
            ("opportunities_instalment", "order_id", orders),
            ("opportunities_orderline", "order_id", orders),
            ("opportunities_historicalorder", "customer_id", GENERATED),
            ("opportunities_order", "customer_id", GENERATED),
            ("opportunities_stagevisit", "opportunity_id", opportunities),
            ("opportunities_opportunityline", "opportunity_id", opportunities),
            ("opportunities_competitor", "opportunity_id", opportunities),
            ("opportunities_objection", "opportunity_id", opportunities),
            ("opportunities_milestonetask", "opportunity_id", opportunities),
            ("opportunities_historicalopportunity", "customer_id", GENERATED),
            ("opportunities_opportunity", "customer_id", GENERATED),
        ]:
            cursor.execute(f"DELETE FROM {table} WHERE {key} IN ({rows})", marker)  # noqa: S608
    SalesTarget.objects.filter(team__members__username__startswith=scale.USERNAME_PREFIX).delete()


def _months_after(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, 28))


class _Pipeline:
    """The dictionaries, and the rows of one run as they are drawn."""

    def __init__(self, context: scale.ScaleContext) -> None:
        self.rng = context.random
        self.now = context.now
        self.today = timezone.localdate(context.now)
        stages = list(Stage.objects.filter(is_active=True))
        self.open_stages = [stage for stage in stages if stage.is_open]
        self.closed = {stage.kind: stage for stage in stages if not stage.is_open}
        self.reasons = list(LostReason.objects.filter(is_active=True).values_list("pk", flat=True))
        self.objection_types = dict(ObjectionType.objects.values_list("code", "pk"))
        self.opportunities: list[list[Any]] = []
        self.visits: list[list[Any]] = []
        self.lines: list[list[Any]] = []
        self.competitors: list[list[Any]] = []
        self.objections: list[list[Any]] = []
        self.orders: list[list[Any]] = []
        self.instalments: list[list[Any]] = []
        self.receipts: list[list[Any]] = []
        self.order_lines: list[list[Any]] = []

    def stage_moments(
        self, path: list[Stage], start: datetime.datetime, end: datetime.datetime | None
    ) -> list[datetime.datetime]:
        """When the opportunity entered each stage of ``path``: drawn stays, squeezed to end at
        ``end`` (a closed deal) or before now (an open one)."""
        stays = [self.rng.uniform(*STAGE_DAYS) for _stage in path[1:]]
        limit = ((end or self.now) - start).total_seconds() / 86_400
        if end is not None or sum(stays) > limit:
            factor = limit / max(sum(stays), 0.01)
            stays = [days * factor for days in stays]
        moments = [start]
        for days in stays:
            moments.append(moments[-1] + datetime.timedelta(days=days))
        if end is not None:
            moments[-1] = end
        return moments

    def add(
        self,
        pk: int,
        customer: tuple[int, int, int | None, str],
        outcome: str,
        start: datetime.datetime,
        end: datetime.datetime | None,
    ) -> None:
        rng = self.rng
        customer_id, owner, source, customer_name = customer
        depth = rng.choices(range(len(self.open_stages)), weights=[30, 25, 20, 15, 10])[0]
        path = self.open_stages[: depth + 1]
        if outcome == "won":
            path = [*self.open_stages[: max(depth, 3) + 1], self.closed[Stage.Kind.WON]]
        elif outcome == "lost":
            path = [*path, self.closed[Stage.Kind.LOST]]
        moments = self.stage_moments(path, start, end)
        lines = [
            (product, price, Decimal(rng.randint(1, 20)))
            for product, price in rng.sample(PRODUCTS, rng.randint(1, 3))
        ]
        amount = sum((price * quantity for _name, price, quantity in lines), Decimal(0))
        final = path[-1]
        closed_at = moments[-1] if final.is_closed else None
        touched = moments[-1]
        if closed_at is None and rng.random() < 0.5:
            touched += (self.now - touched) * rng.random()
        if closed_at is not None:
            close_date = timezone.localdate(closed_at)
        else:
            close_date = self.today + datetime.timedelta(days=rng.randint(-20, 150))
        self.lines += [[pk, name, price, quantity] for name, price, quantity in lines]
        lost = final.kind == Stage.Kind.LOST
        self.opportunities.append([
            pk, customer_id, f"{customer_name[:20]}{rng.choice(NAMES)}", owner, final.pk, amount,
            True, close_date, source, "" if closed_at else rng.choice(NEXT_STEPS),
            rng.choice(self.reasons) if lost and self.reasons else None,
            rng.choice(LOST_NOTES) if lost else "", "{}", closed_at, moments[-1], touched,
            owner, start,
        ])  # fmt: skip
        for index, stage in enumerate(path):
            self.visits.append([
                pk, stage.pk, path[index - 1].pk if index else None, moments[index],
                moments[index + 1] if index + 1 < len(path) else None, owner,
                self.stale_reminder(stage, moments[index], touched)
                if index + 1 == len(path) else None,
            ])  # fmt: skip
        if rng.random() < 0.3:
            name, strengths, weaknesses = rng.choice(COMPETITORS)
            self.competitors.append([pk, name, strengths, weaknesses])
        if rng.random() < 0.25:
            code, description, solution, response = rng.choice(OBJECTIONS)
            if code in self.objection_types:
                self.objections.append([
                    pk, self.objection_types[code], description, solution, response,
                    bool(response), owner, moments[min(2, len(moments) - 1)],
                ])  # fmt: skip
        if closed_at is not None and final.kind == Stage.Kind.WON:
            self.order(pk, customer_id, owner, amount, lines, closed_at)

    def stale_reminder(
        self, stage: Stage, entered: datetime.datetime, touched: datetime.datetime
    ) -> datetime.datetime | None:
        """The reminder a live system sent for this stay, if it went stale before the backlog."""
        if stage.kind != Stage.Kind.OPEN or not stage.stale_after_days:
            return None
        stale_at = max(entered, touched) + datetime.timedelta(days=stage.stale_after_days)
        return stale_at if stale_at < self.now - BACKLOG else None

    def order(
        self,
        opportunity: int,
        customer: int,
        owner: int,
        amount: Decimal,
        lines: list[tuple[str, Decimal, Decimal]],
        signed_at: datetime.datetime,
    ) -> None:
        rng = self.rng
        signed_on = timezone.localdate(signed_at)
        order = len(self.orders)  # replaced by the reserved id
        self.orders.append([
            order, f"{ORDER_PREFIX}{order + 1:07d}", opportunity, customer, owner, amount,
            signed_on, _months_after(signed_on, rng.choice([12, 12, 24, 36])), "", owner,
            signed_at,
        ])  # fmt: skip
        count = rng.choice([1, 2, 2, 3])
        share = (amount / count).quantize(Decimal("0.01"))
        parts = [share] * (count - 1) + [amount - share * (count - 1)]
        payer = rng.random()  # how reliably this customer pays
        all_paid = True
        for index, part in enumerate(parts):
            due = signed_on + datetime.timedelta(days=30 + 60 * index)
            paid_on = due + datetime.timedelta(days=rng.randint(-10, 20))
            paid = paid_on < self.today and payer > 0.15
            notified = None
            if not paid and due < self.today - BACKLOG:
                notified = timezone.make_aware(
                    datetime.datetime.combine(due + datetime.timedelta(days=1), datetime.time(9))
                )
            instalment = len(self.instalments)
            self.instalments.append([
                instalment, order, due, part, "", self.at(paid_on) if paid else None, notified,
            ])  # fmt: skip
            if paid:
                self.receipts.append([
                    order, instalment, part, paid_on, f"HK{rng.randrange(10**8):08d}", owner,
                    self.at(paid_on),
                ])  # fmt: skip
            elif due < self.today and rng.random() < 0.3:
                # Part of an overdue instalment came in.
                partial = (part * Decimal(rng.uniform(0.2, 0.8))).quantize(Decimal("0.01"))
                self.receipts.append([
                    order, instalment, partial, due, "", owner, self.at(due),
                ])  # fmt: skip
            all_paid = all_paid and paid
        self.order_lines += [[order, name, price, quantity] for name, price, quantity in lines]
        if all_paid and Stage.Kind.COLLECTED in self.closed:
            self.collect(opportunity, owner, self.instalments[-1][5])

    def collect(self, opportunity: int, owner: int, at: datetime.datetime) -> None:
        """Every instalment paid: the deal moved on to "payment collected" with the last one."""
        collected = self.closed[Stage.Kind.COLLECTED]
        won_visit = self.visits[-1]
        won_visit[4] = at
        self.visits.append([opportunity, collected.pk, won_visit[1], at, None, owner, None])
        row = self.opportunities[-1]
        row[4], row[14] = collected.pk, at

    def at(self, day: datetime.date) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(15)))


@scale.step(50, "opportunities and orders", clear=_clear_pipeline, foreign=_foreign_pipeline)
def seed_pipeline(context: scale.ScaleContext) -> None:
    rng = context.random
    now = context.now
    owners: dict[int, int | None] = context.shared["customer_owners"]
    created_at: dict[int, datetime.datetime] = context.shared["customer_created"]
    pipeline = _Pipeline(context)
    if not pipeline.open_stages or Stage.Kind.WON not in pipeline.closed:
        context.log("no sales stages: skipped")
        return
    customers = (
        Customer.objects.filter(pk__in=[pk for pk, owner in owners.items() if owner])
        .order_by("pk")
        .values_list("pk", "type", "source_id", "name", "last_cooperation_at")
    )
    window_start = now - datetime.timedelta(days=WINDOW_DAYS)
    plans: list[tuple[tuple[int, int, int | None, str], str, datetime.datetime, Any]] = []
    for pk, type_, source, name, cooperated in customers.iterator(chunk_size=5000):
        customer = (pk, owners[pk], source, name)
        first = max(created_at[pk], window_start)
        won, open_, lost = OUTCOMES.get(type_, (0.0, 0.0, 0.0))
        if won and rng.random() < won:
            # Signed when the customer last cooperated (never in the future), after a few weeks
            # or months of selling.
            signed = min(cooperated or now, now - datetime.timedelta(hours=rng.randint(2, 72)))
            start = max(created_at[pk], signed - datetime.timedelta(days=rng.uniform(20, 150)))
            plans.append((customer, "won", min(start, signed), signed))
        for outcome, chance in (("open", open_), ("lost", lost)):
            if rng.random() < chance:
                # Open deals lean to the recent months: older ones were mostly decided.
                start = first + (now - first) * rng.random() ** (0.6 if outcome == "open" else 1)
                end = None
                if outcome == "lost":
                    end = start + (now - start) * rng.uniform(0.2, 1.0)
                plans.append((customer, outcome, start, end))
    plans.sort(key=lambda plan: plan[2])  # stored in the order they were created
    ids = scale.reserve_ids(Opportunity, len(plans))
    for pk, (customer, outcome, start, end) in zip(ids, plans, strict=True):
        pipeline.add(pk, customer, outcome, start, end)
    order_ids = scale.reserve_ids(Order, len(pipeline.orders))
    for row in pipeline.orders:
        row[0] = order_ids[row[0]]
    instalment_ids = scale.reserve_ids(Instalment, len(pipeline.instalments))
    for row in pipeline.instalments:
        row[0], row[1] = instalment_ids[row[0]], order_ids[row[1]]
    for row in pipeline.receipts:
        row[0], row[1] = order_ids[row[0]], instalment_ids[row[1]]
    for row in pipeline.order_lines:
        row[0] = order_ids[row[0]]
    scale.copy_rows(Opportunity, OPPORTUNITY_COLUMNS, pipeline.opportunities)
    scale.copy_rows(StageVisit, VISIT_COLUMNS, pipeline.visits)
    if ids:  # reserved from the sequence, so in one range
        # Statistics first: planned blind, the UPDATE read the stays once per deal (2 minutes).
        scale.analyze(Opportunity, StageVisit)
        Opportunity.objects.filter(pk__range=(min(ids), max(ids))).refresh_furthest_stage()
    scale.copy_rows(OpportunityLine, LINE_COLUMNS, pipeline.lines)
    scale.copy_rows(
        Competitor, ["opportunity_id", "name", "strengths", "weaknesses"], pipeline.competitors
    )
    scale.copy_rows(
        Objection,
        ["opportunity_id", "type_id", "description", "solution", "customer_response", "resolved",
         "recorded_by_id", "created_at"],
        pipeline.objections,
    )  # fmt: skip
    scale.copy_rows(Order, ORDER_COLUMNS, pipeline.orders)
    scale.copy_rows(
        OrderLine, ["order_id", "product", "unit_price", "quantity"], pipeline.order_lines
    )
    scale.copy_rows(Instalment, INSTALMENT_COLUMNS, pipeline.instalments)
    scale.copy_rows(Receipt, RECEIPT_COLUMNS, pipeline.receipts)
    _targets(timezone.localdate(now))
    scale.analyze(Opportunity, StageVisit, OpportunityLine, Order, Instalment, Receipt)
    context.log(
        f"{len(pipeline.opportunities)} opportunities, {len(pipeline.visits)} stage visits, "
        f"{len(pipeline.orders)} orders, {len(pipeline.instalments)} instalments, "
        f"{len(pipeline.receipts)} receipts"
    )


def _targets(today: datetime.date) -> None:
    """Monthly targets of this year and the last for the company and each sales group."""
    groups = list(
        Team.objects.filter(members__username__startswith=f"{scale.USERNAME_PREFIX}rep-").distinct()
    )
    rows = []
    for year in (today.year - 1, today.year):
        for month in range(1, 13):
            day = datetime.date(year, month, 1)
            if not SalesTarget.objects.filter(month=day, team=None, owner=None).exists():
                rows.append(SalesTarget(month=day, amount=COMPANY_TARGET))
            rows += [SalesTarget(month=day, team=team, amount=TEAM_TARGET) for team in groups]
    SalesTarget.objects.bulk_create(rows)


# --- the benchmark --------------------------------------------------------------------------------


@scale.prepare
def bench_samples(bench: scale.BenchContext) -> None:
    """An open opportunity with a competitor, and a won one with its order: the rep's, or (in a
    small data set) of the rep's team, which the manager and the analyst see too."""
    rep: User = bench.users["rep"]
    for owners in (
        User.objects.filter(pk=rep.pk),
        User.objects.filter(team_id=rep.team_id),
    ):
        mine = Opportunity.objects.filter(owner__in=owners).order_by("pk")
        running = mine.filter(stage__kind=Stage.Kind.OPEN)
        open_ = running.exclude(competitors=None).first() or running.first()
        won = mine.filter(order__isnull=False).order_by("-order__signed_on", "pk").first()
        if open_ is not None and won is not None:
            bench.samples.update(opportunity=open_.pk, won_opportunity=won.pk)
            return
    raise LookupError("Run `manage.py seed_scale` first: the rep's team has no opportunities.")


PIPELINE = ("rep", "manager", "analyst")


def _url(name: str, query: dict[str, str] | None = None) -> Any:
    def url(bench: scale.BenchContext, role: str) -> str:
        return reverse(name) + (f"?{urlencode(query)}" if query else "")

    return url


def _detail(sample: str) -> Any:
    def url(bench: scale.BenchContext, role: str) -> str | None:
        pk = bench.samples[sample]
        if not Opportunity.objects.visible_to(bench.users[role]).filter(pk=pk).exists():
            return None  # a small data set's sample from the rep's team
        return reverse("opportunities:detail", args=[pk])

    return url


scale.page("pipeline board", "list", roles=PIPELINE, url=_url("opportunities:board"))
scale.page("opportunity list", "list", roles=PIPELINE, url=_url("opportunities:list"))
scale.page(
    "opportunity list, filtered",
    "list",
    roles=PIPELINE,
    url=_url(
        "opportunities:list", {"status": "open", "amount_min": "50000", "ordering": "-amount"}
    ),
)
scale.page("opportunity detail", "detail", roles=PIPELINE, url=_detail("opportunity"))
scale.page("opportunity detail, won", "detail", roles=PIPELINE, url=_detail("won_opportunity"))
scale.page("forecast", "dashboard", roles=PIPELINE, url=_url("opportunities:forecast"))

scale.job(
    "opportunities: stale in stage",
    "sweep",
    run=lambda bench: reminders.remind_stale_opportunities(now=timezone.now()),
)
scale.job(
    "opportunities: overdue instalments",
    "sweep",
    run=lambda bench: reminders.remind_overdue_instalments(now=timezone.now()),
)
