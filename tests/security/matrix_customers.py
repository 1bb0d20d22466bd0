"""The customer archive's URLs, and the public lead endpoints."""

import datetime
import secrets

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from crm.core.attachments import attachment_add
from customers.models import CustomerCategory, ExportRequest, SavedView
from customers.services import customer_create
from tests.security.matrix import (
    ALICE_ONLY,
    FORBIDDEN,
    LOGIN,
    NOT_FOUND,
    OK,
    OWNER_LINE,
    OWNER_LINE_WRITE,
    PUBLIC,
    REFUSED,
    ROLES,
    SALES,
    SIGNED_IN,
    Entry,
)

ORDER = 10


def build(world):  # type: ignore[no-untyped-def]
    alice = world.users["alice"]
    world.customer = customer_create(
        by=alice,
        owner=alice,
        name="矩阵探针精密机械有限公司",
        category=CustomerCategory.objects.get(name="企业客户"),
        address="浙江省宁波市鄞州区探针路8号",
        contacts=[{"name": "秘密联系人", "phone": "13987654321", "email": "probe@example.cn"}],
    )
    world.contact = world.customer.contacts.get()
    world.attachment = attachment_add(
        target=world.customer,
        upload=SimpleUploadedFile("合同.txt", "探针合同".encode(), content_type="text/plain"),
        by=alice,
    )
    world.saved_view = SavedView.objects.create(user=alice, name="我的视图", query="type=won")
    world.export = ExportRequest.objects.create(
        user=alice,
        file_format="csv",
        token=secrets.token_urlsafe(32),
        approved_at=timezone.now(),
        expires_at=timezone.now() + datetime.timedelta(hours=1),
    )
    world.secrets += [world.customer.name, "13987654321", "秘密联系人", "探针路8号"]
    world.records += [world.customer, world.contact, world.attachment, world.saved_view]


def customer(world):  # type: ignore[no-untyped-def]
    return {"pk": world.customer.pk}


MANAGERS = {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "manager": OK}
EXPORTERS = {**SIGNED_IN, "agent": FORBIDDEN, "supervisor": FORBIDDEN}

ENTRIES = {
    "customers:list": Entry(get=SIGNED_IN),
    "customers:create": Entry(get=SALES, post=SALES),
    "customers:bulk": Entry(post=SIGNED_IN),
    "customers:saved_view_create": Entry(post=SIGNED_IN),
    "customers:saved_view_delete": Entry(
        kwargs=lambda world: {"view_pk": world.saved_view.pk}, post=ALICE_ONLY
    ),
    "customers:detail": Entry(kwargs=customer, get=OWNER_LINE),
    "customers:panel": Entry(
        kwargs=lambda world: {"pk": world.customer.pk, "key": "followups"},
        get=OWNER_LINE,
        note="each app's panel is probed through the follow-ups one; all share the view",
    ),
    "customers:edit": Entry(kwargs=customer, get=OWNER_LINE_WRITE, post=OWNER_LINE_WRITE),
    "customers:delete": Entry(kwargs=customer, get=OWNER_LINE_WRITE, post=OWNER_LINE_WRITE),
    "customers:reveal": Entry(
        kwargs=customer,
        post={**OWNER_LINE, "analyst": FORBIDDEN},
        post_data=lambda world: {"field": "phone", "contact": world.contact.pk},
    ),
    "customers:reassign": Entry(
        kwargs=customer,
        post={**OWNER_LINE_WRITE, "alice": FORBIDDEN},
        note="reassigning is for managers",
    ),
    "customers:contact_create": Entry(kwargs=customer, get=OWNER_LINE_WRITE, post=OWNER_LINE_WRITE),
    "customers:contact_edit": Entry(
        kwargs=lambda world: {"pk": world.customer.pk, "contact_pk": world.contact.pk},
        get=OWNER_LINE_WRITE,
        post=OWNER_LINE_WRITE,
    ),
    "customers:attachment_upload": Entry(kwargs=customer, post=OWNER_LINE_WRITE),
    "customers:import": Entry(get=MANAGERS, post=MANAGERS),
    "customers:import_template": Entry(get=MANAGERS),
    "customers:import_jobs": Entry(get=MANAGERS),
    "customers:import_detail": Entry(
        kwargs=lambda world: {"job_pk": 999999},
        get={**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN},
        note="a job that is not the user's",
    ),
    "customers:export": Entry(get=EXPORTERS, post=EXPORTERS),
    "customers:export_download": Entry(
        kwargs=lambda world: {"token": world.export.token}, get=ALICE_ONLY
    ),
    "leads:capture": Entry(get=PUBLIC, post=PUBLIC),
    "leads:thanks": Entry(get=PUBLIC),
    "leads:api": Entry(post=dict.fromkeys(ROLES, REFUSED), note="no API key: 401"),
}
