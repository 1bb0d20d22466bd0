"""Demo data for the dashboards: a year of channel spend and the action plans of a review
meeting. Idempotent: a second run finds what the first wrote."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from analytics.models import ActionPlan, ChannelSpend
from crm.accounts.models import User
from crm.core import demo
from customers.models import SourceChannel

MONTHLY_SPEND = {
    "exhibition": Decimal("60000"),
    "online_ads": Decimal("35000"),
    "referral": Decimal("5000"),
    "website_form": Decimal("8000"),
}
PLANS = [
    # owner, title, metric, days from today, status
    (
        "manager",
        "方案提交阶段停留过长：每周过一遍超 7 天未推进的商机",
        "sales.stage_time",
        14,
        "in_progress",
    ),
    ("rep1", "线上广告线索 48 小时内首次跟进", "sales.sources", 7, "open"),
    ("rep2", "价格因素输单复盘：整理三个竞品报价对比", "sales.lost_reasons", -3, "open"),
    ("manager", "跟进任务准时率提升到 90%", "customers.timeliness", 30, "open"),
]


@demo.register(60, "analytics")
def seed_analytics() -> None:
    today = timezone.localdate()
    with transaction.atomic():
        _spend(today)
        _plans(today)


def _spend(today: datetime.date) -> None:
    month = today.replace(day=1)
    for _index in range(12):
        for channel in SourceChannel.objects.filter(code__in=MONTHLY_SPEND):
            ChannelSpend.objects.get_or_create(
                channel=channel, month=month, defaults={"amount": MONTHLY_SPEND[channel.code]}
            )
        month = (month - datetime.timedelta(days=1)).replace(day=1)


def _plans(today: datetime.date) -> None:
    users = User.objects.in_bulk([owner for owner, *_rest in PLANS], field_name="username")
    manager = users.get("manager")
    if manager is None or ActionPlan.objects.exists():
        return
    meeting = f"{today:%Y 年 %m 月}经营复盘会"
    for owner_name, title, metric, days, status in PLANS:
        owner = users.get(owner_name)
        if owner is None:
            continue
        ActionPlan.objects.create(
            title=title,
            meeting=meeting,
            owner=owner,
            team=owner.team,
            due_on=today + datetime.timedelta(days=days),
            status=status,
            metric=metric,
            metric_url=f"/analytics/{metric.split('.')[0]}/",
            created_by=manager,
        )
