"""Follow-up plans, tasks and records."""

import datetime

from django.utils import timezone

from followups.models import FollowUpPlan, Stage
from followups.services import plan_create, task_create
from tests.security.matrix import (
    FORBIDDEN,
    OWNER_LINE,
    OWNER_LINE_WRITE,
    SIGNED_IN,
    Entry,
)

ORDER = 20


def build(world):  # type: ignore[no-untyped-def]
    alice = world.users["alice"]
    world.task = task_create(
        customer=world.customer,
        owner=alice,
        by=alice,
        title="矩阵探针回访",
        due_at=timezone.now() + datetime.timedelta(hours=2),
    )
    world.plan = plan_create(
        customer=world.customer,
        owner=alice,
        by=alice,
        stage=Stage.INITIAL_CONTACT,
        cadence=FollowUpPlan.Cadence.WEEKLY,
        starts_on=timezone.localdate() + datetime.timedelta(days=1),
    )
    world.secrets.append("矩阵探针回访")
    world.records += [world.task, world.plan]


def task(world):  # type: ignore[no-untyped-def]
    return {"pk": world.task.pk}


def for_customer(world):  # type: ignore[no-untyped-def]
    return f"?customer={world.customer.pk}"


# The team view: whoever reaches beyond their own records (managers, supervisors, analysts).
TEAM_VIEW = {**SIGNED_IN, **dict.fromkeys(["alice", "bob", "charlie", "agent"], FORBIDDEN)}

ENTRIES = {
    "followups:list": Entry(get=SIGNED_IN, note="everyone has their own tasks"),
    "followups:team": Entry(get=TEAM_VIEW),
    "followups:calendar": Entry(get=SIGNED_IN),
    "followups:preferences": Entry(get=SIGNED_IN, post=SIGNED_IN),
    "followups:task": Entry(kwargs=task, get=OWNER_LINE),
    "followups:reschedule": Entry(
        kwargs=task,
        post={**OWNER_LINE_WRITE, "manager": FORBIDDEN},
        note="the owner's calendar only",
        post_data=lambda world: {"date": (timezone.localdate() + datetime.timedelta(days=2))},
    ),
    "followups:task_cancel": Entry(kwargs=task, post=OWNER_LINE_WRITE),
    "followups:task_transfer": Entry(kwargs=task, post=OWNER_LINE_WRITE),
    "followups:task_record": Entry(kwargs=task, get=OWNER_LINE_WRITE, post=OWNER_LINE_WRITE),
    "followups:record_create": Entry(
        query=for_customer, get=OWNER_LINE_WRITE, post=OWNER_LINE_WRITE
    ),
    "followups:plan_create": Entry(query=for_customer, get=OWNER_LINE_WRITE, post=OWNER_LINE_WRITE),
    "followups:plan_edit": Entry(
        kwargs=lambda world: {"pk": world.plan.pk}, get=OWNER_LINE_WRITE, post=OWNER_LINE_WRITE
    ),
    "followups:plan_pause": Entry(
        kwargs=lambda world: {"pk": world.plan.pk}, post=OWNER_LINE_WRITE
    ),
}
