"""Inbound email: real RFC 822 messages parsed, filed once, and read over IMAP."""

import pathlib

import pytest
from django.urls import reverse

from crm.core.models import Attachment
from customers.models import CustomerCategory
from customers.services import customer_create
from tickets import inbound
from tickets.inbound import inbound_raw_process, parse_message
from tickets.models import InboundEmail, Mailbox, Ticket, TicketCategory, TicketMessage

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class TestParsing:
    def test_plain_utf8_quoted_printable(self):
        message = parse_message(raw("plain.eml"))
        assert message.message_id == "<20260302101500.1234@mail.example.com>"
        assert message.from_name == "李伟"
        assert message.from_email == "li.wei@example.com"
        assert message.subject == "设备无法开机"
        assert message.body == "您好，我们上周购买的设备无法开机。\n请尽快联系。"
        assert message.ticket_number is None
        assert message.sent_at.isoformat() == "2026-03-02T10:15:00+08:00"

    def test_multipart_alternative_prefers_the_plain_part(self):
        message = parse_message(raw("alternative.eml"))
        assert message.subject == "发票抬头有误"
        assert message.from_name == "张敏"
        assert "<b>" not in message.body
        assert message.body.startswith("王经理您好：")
        assert message.attachments == []

    def test_gb2312_label_with_gbk_characters(self):
        # Outlook labels GBK text GB2312; 镕 exists only in GBK.
        message = parse_message(raw("gb2312.eml"))
        assert message.subject == "打印机经常卡纸"
        assert message.from_name == "陈刚"
        assert "朱镕基路的门店反映，打印机经常卡纸。" in message.body

    def test_html_only_gbk_becomes_text(self):
        message = parse_message(raw("gbk_html.eml"))
        assert message.subject == "如何导出报表"
        assert message.body.splitlines()[0] == "产品使用咨询：如何导出报表？"
        assert "<div>" not in message.body
        assert "&nbsp;" not in message.body

    def test_attachments_with_encoded_chinese_names(self):
        message = parse_message(raw("attachments.eml"))
        names = [(item.filename, item.content_type) for item in message.attachments]
        assert names == [
            ("送货单.pdf", "application/pdf"),
            ("照片.png", "image/png"),
            ("setup.exe", "application/octet-stream"),
        ]
        assert message.attachments[0].content.startswith(b"%PDF-1.4")
        assert message.body.startswith("Hello,")

    def test_reply_names_its_ticket(self):
        message = parse_message(raw("reply.eml"))
        assert message.subject == "回复：[GW20260302001] 设备无法开机"
        assert message.ticket_number == "GW20260302001"

    def test_auto_replies_are_recognised(self):
        auto = raw("plain.eml").replace(
            b"MIME-Version", b"Auto-Submitted: auto-replied\r\nMIME-Version"
        )
        assert parse_message(auto).is_automatic
        assert not parse_message(raw("plain.eml")).is_automatic

    def test_a_message_without_id_gets_a_stable_one(self):
        bare = raw("plain.eml").replace(
            b"Message-ID: <20260302101500.1234@mail.example.com>\r\n", b""
        )
        assert parse_message(bare).message_id == parse_message(bare).message_id
        assert parse_message(bare).message_id.startswith("<sha256-")


@pytest.fixture
def mailbox(db) -> Mailbox:
    return Mailbox.objects.create(
        name="客服邮箱",
        host="127.0.0.1",
        port=993,
        username="service@company.cn",
        password="imap-secret",
        address="service@company.cn",
        category=TicketCategory.objects.get(name="产品使用类"),
    )


class TestFiling:
    def test_a_new_mail_becomes_a_ticket(self, mailbox):
        record = inbound_raw_process(mailbox=mailbox, raw=raw("gb2312.eml"))
        assert record.outcome == InboundEmail.Outcome.CREATED
        ticket = record.ticket
        assert ticket.channel == Ticket.Channel.EMAIL
        assert ticket.subject == "打印机经常卡纸"
        assert ticket.contact_name == "陈刚"
        assert ticket.contact_email == "chen.gang@example.com.cn"
        assert ticket.category == mailbox.category
        assert "朱镕基路" in ticket.description

    def test_the_same_message_is_filed_once(self, mailbox):
        first = inbound_raw_process(mailbox=mailbox, raw=raw("plain.eml"))
        again = inbound_raw_process(mailbox=mailbox, raw=raw("plain.eml"))
        assert again.pk == first.pk
        assert Ticket.objects.count() == 1

    def test_the_sender_is_matched_to_the_archive(self, mailbox, alice):
        customer = customer_create(
            by=alice,
            owner=alice,
            name="杭州示例科技有限公司",
            category=CustomerCategory.objects.get(name="企业客户"),
            contacts=[{"name": "李伟", "email": "Li.Wei@example.com"}],
        )
        contact = customer.contacts.get()
        ticket = inbound_raw_process(mailbox=mailbox, raw=raw("plain.eml")).ticket
        assert ticket.contact == contact
        assert ticket.customer == contact.customer

    def test_a_reply_is_appended_to_its_ticket(self, mailbox):
        ticket = inbound_raw_process(mailbox=mailbox, raw=raw("plain.eml")).ticket
        reply = raw("reply.eml").replace(b"GW20260302001", ticket.number.encode())
        # The number sits in a base64 UTF-8 subject: rebuild it with the real number.
        reply = _with_subject(reply, f"回复：[{ticket.number}] 设备无法开机")
        record = inbound_raw_process(mailbox=mailbox, raw=reply)
        assert record.outcome == InboundEmail.Outcome.APPENDED
        assert record.ticket == ticket
        message = ticket.messages.get()
        assert message.kind == TicketMessage.Kind.CUSTOMER
        assert "SN-2026-0042" in message.body
        assert message.author_name == "李伟"
        assert Ticket.objects.count() == 1

    def test_a_stranger_naming_a_ticket_opens_their_own(self, mailbox):
        ticket = inbound_raw_process(mailbox=mailbox, raw=raw("plain.eml")).ticket
        reply = _with_subject(raw("reply.eml"), f"Re: {ticket.number}").replace(
            b"li.wei@example.com", b"someone@else.example"
        )
        record = inbound_raw_process(mailbox=mailbox, raw=reply)
        assert record.outcome == InboundEmail.Outcome.CREATED
        assert record.ticket != ticket
        assert not ticket.messages.exists()

    def test_accepted_attachments_are_kept_and_others_noted(self, mailbox):
        record = inbound_raw_process(mailbox=mailbox, raw=raw("attachments.eml"))
        names = sorted(
            Attachment.objects.for_object(record.ticket).values_list("original_name", flat=True)
        )
        assert set(names) == {"送货单.pdf", "照片.png"}
        assert "setup.exe" in record.note

    def test_automatic_and_own_mail_is_ignored(self, mailbox):
        auto = raw("plain.eml").replace(
            b"MIME-Version", b"Auto-Submitted: auto-replied\r\nMIME-Version"
        )
        assert (
            inbound_raw_process(mailbox=mailbox, raw=auto).outcome == InboundEmail.Outcome.IGNORED
        )
        own = raw("alternative.eml").replace(b"zhang.min@example.net", b"service@company.cn")
        assert inbound_raw_process(mailbox=mailbox, raw=own).outcome == InboundEmail.Outcome.IGNORED
        assert not Ticket.objects.exists()

    def test_the_password_is_encrypted_at_rest(self, mailbox):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT password FROM tickets_mailbox WHERE id = %s", [mailbox.pk])
            stored = cursor.fetchone()[0]
        assert stored.startswith("enc1:")
        assert "imap-secret" not in stored
        assert Mailbox.objects.get(pk=mailbox.pk).password == "imap-secret"

    def test_an_unreachable_mailbox_records_the_error(self, mailbox):
        mailbox.port = _free_port()
        mailbox.use_ssl = False
        mailbox.save()
        assert inbound.mailboxes_fetch() == 0
        mailbox.refresh_from_db()
        assert mailbox.last_checked_at is not None
        assert mailbox.last_error


def _with_subject(message: bytes, subject: str) -> bytes:
    from email.header import Header

    lines = message.split(b"\r\n")
    encoded = Header(subject, "utf-8").encode().encode()
    return b"\r\n".join(
        b"Subject: " + encoded if line.startswith(b"Subject:") else line for line in lines
    )


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TestAdmin:
    def test_admin_pages_load(self, client_for, admin_user, mailbox):
        client = client_for(admin_user)
        for name in ["mailbox", "inboundemail", "calendarday", "workinghours", "survey"]:
            assert client.get(reverse(f"admin:tickets_{name}_changelist")).status_code == 200
        assert (
            client.get(reverse("admin:tickets_mailbox_change", args=[mailbox.pk])).status_code
            == 200
        )

    def test_an_empty_password_keeps_the_stored_one(self, client_for, admin_user, mailbox):
        client = client_for(admin_user)
        response = client.post(
            reverse("admin:tickets_mailbox_change", args=[mailbox.pk]),
            {
                "name": "客服邮箱",
                "host": "imap.example.com",
                "port": "993",
                "use_ssl": "on",
                "username": "service@company.cn",
                "password": "",
                "folder": "INBOX",
                "address": "service@company.cn",
                "category": mailbox.category_id,
                "is_active": "on",
            },
        )
        assert response.status_code == 302
        mailbox.refresh_from_db()
        assert mailbox.host == "imap.example.com"
        assert mailbox.password == "imap-secret"
        page = client.get(reverse("admin:tickets_mailbox_change", args=[mailbox.pk]))
        assert "imap-secret" not in page.content.decode()


DOVECOT = pathlib.Path("/usr/sbin/dovecot")
DOVECOT_CONF = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
"""


@pytest.fixture
def imap_server():
    """A real Dovecot IMAP server on a free local port, when Dovecot is installed
    (``apt-get install dovecot-imapd``) and we may run it (as root, delivering as nobody)."""
    import os
    import shutil
    import socket
    import subprocess
    import tempfile
    import time

    if not DOVECOT.exists():
        pytest.skip("IMAP reader test needs Dovecot (apt-get install dovecot-imapd): not installed")
    if os.geteuid() != 0:
        pytest.skip("IMAP reader test starts Dovecot, which must run as root here")
    port = _free_port()
    # Dovecot's auth and mail processes run as other users: pytest's private tmp_path (0700
    # parents) is out of their reach, so the server gets a folder of its own.
    tmp_path = pathlib.Path(tempfile.mkdtemp(prefix="crm-dovecot-"))
    for folder in ("run", "state", "mail"):
        (tmp_path / folder).mkdir()
    tmp_path.chmod(0o755)
    (tmp_path / "mail").chmod(0o777)
    (tmp_path / "users").write_text("service@company.cn:{PLAIN}imap-secret\n")
    config = tmp_path / "dovecot.conf"
    config.write_text(DOVECOT_CONF.format(root=tmp_path, port=port))
    process = subprocess.Popen([str(DOVECOT), "-F", "-c", str(config)])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.skip("Dovecot did not start: " + _log(tmp_path))
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(tmp_path, ignore_errors=True)


def _log(root: pathlib.Path) -> str:
    log = root / "dovecot.log"
    return log.read_text()[-500:] if log.exists() else "no log"


def _deliver(port: int, *names: str) -> None:
    import imaplib

    connection = imaplib.IMAP4("127.0.0.1", port)
    connection.login("service@company.cn", "imap-secret")
    for name in names:
        connection.append("INBOX", None, None, raw(name))
    connection.logout()


def _unseen(port: int) -> int:
    import imaplib

    connection = imaplib.IMAP4("127.0.0.1", port)
    connection.login("service@company.cn", "imap-secret")
    connection.select("INBOX")
    _status, data = connection.uid("SEARCH", None, "UNSEEN")
    connection.logout()
    return len(data[0].split())


class TestImapReader:
    def test_new_mail_is_read_filed_and_marked_seen(self, mailbox, imap_server):
        mailbox.port = imap_server
        mailbox.use_ssl = False
        mailbox.save()
        _deliver(imap_server, "plain.eml", "gb2312.eml", "attachments.eml")
        assert inbound.mailboxes_fetch() == 3
        assert Ticket.objects.filter(channel=Ticket.Channel.EMAIL).count() == 3
        assert _unseen(imap_server) == 0
        mailbox.refresh_from_db()
        assert mailbox.last_error == ""
        # The same mail delivered again (a redirect, a second copy) files nothing new.
        _deliver(imap_server, "plain.eml")
        assert inbound.mailboxes_fetch() == 0
        assert Ticket.objects.count() == 3
        assert _unseen(imap_server) == 0

    def test_a_wrong_password_is_recorded_not_raised(self, mailbox, imap_server):
        mailbox.port = imap_server
        mailbox.use_ssl = False
        mailbox.password = "wrong"
        mailbox.save()
        assert inbound.mailboxes_fetch() == 0
        mailbox.refresh_from_db()
        assert mailbox.last_error
