"""The platform's URLs: shell, accounts, notifications, approvals, attachments."""

from crm.notifications.services import notify
from tests.security.matrix import (
    ALICE_ONLY,
    LOGIN,
    NOT_FOUND,
    OK,
    OWNER_LINE,
    PUBLIC,
    ROLES,
    SIGNED_IN,
    Entry,
    Outcome,
)

ORDER = 90  # after the domain apps: the approval request is about alice's customer


def build(world):  # type: ignore[no-untyped-def]
    from customers.services import customer_delete_request

    alice = world.users["alice"]
    [world.notification] = notify(
        [alice], "approval_decided", context={"request": None}, email=False
    )
    world.approval = customer_delete_request(customer=world.customer, by=alice, reason="重复录入")
    assert world.approval.approver == world.users["manager"]
    world.records += [world.notification, world.approval]


REQUESTER_AND_APPROVER = {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN}
REQUESTER_AND_APPROVER.update(alice=OK, manager=OK)

ENTRIES = {
    "home": Entry(get=SIGNED_IN),
    "health": Entry(
        get=dict.fromkeys(ROLES, frozenset({OK, Outcome.UNAVAILABLE})),
        note="503 while beat or Redis is not running",
    ),
    "nav_counts": Entry(get=SIGNED_IN),
    "login": Entry(get=PUBLIC, post=PUBLIC),
    "logout": Entry(post=dict.fromkeys(ROLES, LOGIN)),
    "password_change": Entry(get=SIGNED_IN, post=SIGNED_IN),
    "password_change_done": Entry(get=SIGNED_IN),
    "set_language": Entry(post=PUBLIC, post_data=lambda world: {"language": "en"}),
    "notifications:list": Entry(get=SIGNED_IN),
    "notifications:badge": Entry(get=SIGNED_IN),
    "notifications:read_all": Entry(post=SIGNED_IN),
    "notifications:read": Entry(
        kwargs=lambda world: {"pk": world.notification.pk}, post=ALICE_ONLY
    ),
    "approvals:list": Entry(get=SIGNED_IN),
    "approvals:detail": Entry(
        kwargs=lambda world: {"pk": world.approval.pk}, get=REQUESTER_AND_APPROVER
    ),
    "approvals:withdraw": Entry(
        kwargs=lambda world: {"pk": world.approval.pk},
        post=REQUESTER_AND_APPROVER,
        note="the approver is sent back with a message that only the requester may withdraw",
    ),
    "attachment_download": Entry(kwargs=lambda world: {"pk": world.attachment.pk}, get=OWNER_LINE),
    "company_logo": Entry(get=dict.fromkeys(ROLES, NOT_FOUND), note="no logo uploaded"),
}
