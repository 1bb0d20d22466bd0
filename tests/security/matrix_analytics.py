"""The dashboards, their drill-down lists and exports, and the action plans."""

import datetime
import secrets

from django.utils import timezone

from analytics import services
from analytics.models import ExportRequest
from tests.security.matrix import (
    FORBIDDEN,
    LOGIN,
    NOT_FOUND,
    OK,
    OWNER_LINE,
    OWNER_LINE_WRITE,
    ROLES,
    SIGNED_IN,
    Entry,
)

ORDER = 60  # after the pipeline: the dashboards count its opportunity


def build(world):  # type: ignore[no-untyped-def]
    alice, manager = world.users["alice"], world.users["manager"]
    world.action_plan = services.action_plan_create(
        by=manager,
        owner=alice,
        title="探针行动计划：方案阶段提速",
        description="探针行动计划详情",
        meeting="探针复盘会",
        due_on=timezone.localdate() + datetime.timedelta(days=7),
        metric="sales.funnel",
    )
    world.export_request = ExportRequest.objects.create(
        user=manager,
        dataset="leads",
        file_format="csv",
        token=secrets.token_urlsafe(32),
        approved_at=timezone.now(),
        expires_at=timezone.now() + datetime.timedelta(hours=1),
    )
    world.secrets += ["探针行动计划：方案阶段提速", "探针行动计划详情"]
    world.records += [world.action_plan]


# Sales dashboards: every sales role sees its own scope; the service desk gets 404.
SALES_BOARD = {**SIGNED_IN, "agent": NOT_FOUND, "supervisor": NOT_FOUND}
# Their exports: managers and analysts; reps read but do not export.
SALES_EXPORT = {**SALES_BOARD, "charlie": FORBIDDEN, "bob": FORBIDDEN, "alice": FORBIDDEN}
SERVICE_BOARD = {
    **dict.fromkeys(ROLES, NOT_FOUND),
    "anonymous": LOGIN,
    "agent": OK,
    "supervisor": OK,
    "analyst": OK,
}
WRITERS = {**SIGNED_IN, "analyst": FORBIDDEN}
MANAGER_ONLY = {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "manager": OK}

ENTRIES = {
    "analytics:index": Entry(get=SIGNED_IN, note="redirects to the first dashboard of the role"),
    "analytics:dashboard": Entry(kwargs=lambda world: {"key": "sales"}, get=SALES_BOARD),
    "analytics:table_export": Entry(
        kwargs=lambda world: {"key": "sales"},
        query=lambda world: "?chart=funnel&format=csv",
        get=SALES_EXPORT,
    ),
    "analytics:records": Entry(
        kwargs=lambda world: {"dataset_key": "funnel"},
        query=lambda world: "?reached=proposal",
        get=SALES_BOARD,
        note="a rep's list holds their own opportunities only",
    ),
    "analytics:records_export": Entry(
        kwargs=lambda world: {"dataset_key": "funnel"},
        get=SALES_EXPORT,
        post=SALES_EXPORT,
        post_data=lambda world: {"query": "reached=proposal", "format": "csv"},
    ),
    "analytics:exports": Entry(get=SIGNED_IN),
    "analytics:export_download": Entry(
        kwargs=lambda world: {"token": world.export_request.token},
        get=MANAGER_ONLY,
        note="the requester's own approved link, once",
    ),
    "analytics:action_plans": Entry(get=SIGNED_IN),
    "analytics:action_plan_create": Entry(
        get=WRITERS, post=WRITERS, note="an empty form answers with its errors"
    ),
    "analytics:action_plan": Entry(
        kwargs=lambda world: {"pk": world.action_plan.pk}, get=OWNER_LINE
    ),
    "analytics:action_plan_edit": Entry(
        kwargs=lambda world: {"pk": world.action_plan.pk},
        get=OWNER_LINE_WRITE,
        post=OWNER_LINE_WRITE,
    ),
    "analytics:action_plan_move": Entry(
        kwargs=lambda world: {"pk": world.action_plan.pk},
        post=OWNER_LINE_WRITE,
        post_data=lambda world: {"status": "in_progress"},
    ),
}
