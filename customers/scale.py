"""Scale data set and benchmark pages of the customer archive (crm.core.scale).

100,000 customers (numbered ``SC0000001`` …) spread over the dictionaries the way a sales
company's are: mostly enterprises, a few large, most potential or intention, owned by the reps
with a to-be-assigned pool; about two contacts each with encrypted phones and their blind index;
a tag or two. Rows go in with COPY and no history: they are a load, not anybody's edits.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from crm.accounts.models import Province, User
from crm.core import scale
from crm.core.crypto import encrypt
from crm.core.phones import phone_index, phone_last4
from customers import panels, tiers
from customers.models import (
    Contact,
    Customer,
    CustomerCategory,
    CustomerLevel,
    CustomerScale,
    CustomerTag,
    DemandTag,
    ImportJob,
    Industry,
    SourceChannel,
)
from customers.names import normalize_name, pinyin_forms
from customers.resources import IMPORT_COLUMNS, csv_bytes, import_template_headers

CITIES = [
    ("上海", "上海"), ("北京", "北京"), ("深圳", "广东"), ("广州", "广东"), ("杭州", "浙江"),
    ("宁波", "浙江"), ("苏州", "江苏"), ("南京", "江苏"), ("成都", "四川"), ("武汉", "湖北"),
    ("西安", "陕西"), ("天津", "天津"), ("重庆", "重庆"), ("青岛", "山东"), ("济南", "山东"),
    ("厦门", "福建"), ("长沙", "湖南"), ("郑州", "河南"), ("合肥", "安徽"), ("沈阳", "辽宁"),
]  # fmt: skip
CORES = [
    "华通",
    "鼎盛",
    "恒信",
    "博远",
    "金桥",
    "瑞丰",
    "宏达",
    "天成",
    "中科",
    "新元",
    "远航",
    "正泰",
    "卓越",
    "东方",
    "汇丰",
    "嘉禾",
    "启明",
    "星辰",
    "海纳",
    "联创",
    "德润",
    "安泰",
    "永康",
    "信达",
    "融通",
    "润泽",
    "明阳",
    "百川",
    "泰和",
    "长青",
    "聚鑫",
    "智汇",
    "同舟",
    "云帆",
    "银河",
    "凯旋",
    "华美",
    "盛世",
    "万象",
    "蓝海",
]
TRADES = [
    "科技",
    "机械",
    "电子",
    "贸易",
    "物流",
    "医疗器械",
    "新材料",
    "信息技术",
    "建设工程",
    "食品",
    "环保",
    "能源",
    "自动化",
    "软件",
    "精密制造",
]
SUFFIXES = ["有限公司"] * 6 + ["股份有限公司"] * 2 + ["集团有限公司"]
FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建红志丹欣宇浩然子涵梓睿"
TITLES = ["总经理", "采购经理", "技术总监", "财务经理", "行政主管", "项目经理", "工程师", "董事长"]
STREETS = ["人民路", "中山路", "解放路", "建设路", "和平路", "科技园路", "长江路", "创新大道"]

# (type, share, lifecycle, status weights) — status drawn per type.
TYPES = [
    (Customer.Type.POTENTIAL, 50, Customer.Lifecycle.FIRST_CONTACT),
    (Customer.Type.INTENTION, 25, Customer.Lifecycle.INTENTION),
    (Customer.Type.WON, 20, Customer.Lifecycle.COOPERATING),
    (Customer.Type.LOST, 5, Customer.Lifecycle.LOST),
]
CUSTOMER_COLUMNS = [
    "id", "number", "name", "name_normalized", "name_pinyin", "name_initials", "type", "status",
    "category_id", "industry_id", "scale_id", "employee_range", "revenue_range", "region_id",
    "province_id", "city", "district", "address", "source_id", "first_contact_at", "budget_min",
    "budget_max", "level_id", "annual_amount", "owner_id", "assigned_at", "next_follow_up_due",
    "lifecycle", "value_tier", "activity_tier", "last_cooperation_at", "tiers_computed_at",
    "notes", "custom_data", "assignment_error", "created_by_id", "created_at", "updated_at",
]  # fmt: skip
CONTACT_COLUMNS = [
    "customer_id", "name", "title", "phone", "phone_index", "phone_last4", "email",
    "decision_role", "birthday", "is_primary", "created_at",
]  # fmt: skip


def generated_customers() -> Any:
    return Customer.objects.filter(number__startswith=scale.CUSTOMER_NUMBER_PREFIX)


def _foreign_customers() -> bool:
    return Customer.objects.exclude(number__startswith=scale.CUSTOMER_NUMBER_PREFIX).exists()


def _clear_customers() -> None:
    generated = "SELECT id FROM customers_customer WHERE number LIKE %s"
    marker = [scale.CUSTOMER_NUMBER_PREFIX + "%"]
    with connection.cursor() as cursor:
        for table in (
            "customers_contact",
            "customers_customertag",
            "customers_customer_shared_with",
            "customers_revealog",
        ):
            if table in connection.introspection.table_names(cursor):
                cursor.execute(f"DELETE FROM {table} WHERE customer_id IN ({generated})", marker)  # noqa: S608
        cursor.execute("DELETE FROM customers_customer WHERE number LIKE %s", marker)


def _person(rng: Any) -> str:
    return rng.choice(FAMILY) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))


def _phone(rng: Any) -> str:
    if rng.random() < 0.1:
        return f"0{rng.choice(['10', '21', '755', '571', '25'])}-{rng.randrange(10**7, 10**8)}"
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def _address(rng: Any, province: str, city: str) -> str:
    """Encrypted like every address (SPEC §7); four in ten customers have none."""
    if rng.random() < 0.4:
        return ""
    return encrypt(f"{province}{city}{rng.choice(STREETS)}{rng.randrange(1, 999)}号")


def _birthday(rng: Any) -> datetime.date:
    return datetime.date(rng.randrange(1960, 2000), rng.randrange(1, 13), rng.randrange(1, 29))


def _weighted(rng: Any, values: list[Any], weights: list[float]) -> Any:
    return rng.choices(values, weights=weights, k=1)[0]


@scale.step(20, "customers and contacts", clear=_clear_customers, foreign=_foreign_customers)
def seed_customers(context: scale.ScaleContext) -> None:
    rng = context.random
    now = context.now
    count = context.customers
    reps: list[int] = context.shared["reps"]
    managers: list[int] = context.shared["users_by_role"].get("sales_manager", [])
    # A few reps carry much more than others, as in every sales team.
    rep_weights = [1 + 2 * (index % 5 == 0) + (index % 3 == 0) for index in range(len(reps))]
    categories = list(CustomerCategory.objects.order_by("pk").values_list("pk", flat=True))
    divisions = list(
        Industry.objects.filter(parent__isnull=False).order_by("pk").values_list("pk", flat=True)
    )
    sections = list(
        Industry.objects.filter(parent__isnull=True).order_by("pk").values_list("pk", flat=True)
    )
    scales = list(CustomerScale.objects.order_by("pk").values_list("pk", flat=True))
    sources = list(SourceChannel.objects.order_by("pk").values_list("pk", flat=True))
    levels = list(CustomerLevel.objects.order_by("pk").values_list("pk", flat=True))
    tags = list(DemandTag.objects.order_by("pk").values_list("pk", flat=True))
    provinces = {
        name: (pk, region)
        for pk, name, region in Province.objects.values_list("pk", "name", "region_id")
    }
    ids = scale.reserve_ids(Customer, count)
    customer_rows: list[list[Any]] = []
    contact_rows: list[list[Any]] = []
    tag_rows: list[tuple[int, int]] = []
    shared_rows: list[tuple[int, int]] = []
    owners: dict[int, int | None] = {}
    for index, pk in enumerate(ids):
        city, province_name = rng.choice(CITIES)
        province = provinces.get(province_name)
        individual = len(categories) > 1 and rng.random() < 0.08
        if individual:
            name = _person(rng)
            category = categories[1]
        else:
            name = city + rng.choice(CORES) + rng.choice(TRADES) + rng.choice(SUFFIXES)
            category = (
                categories[0] if rng.random() < 0.95 or len(categories) < 3 else categories[2]
            )
        type_, _share, lifecycle = _weighted(rng, TYPES, [share for _t, share, _l in TYPES])
        created = now - datetime.timedelta(
            days=rng.random() ** 1.5 * 1095, minutes=rng.randrange(1440)
        )
        roll = rng.random()
        if roll < 0.05:
            owner, status = None, Customer.Status.TO_BE_ASSIGNED
        else:
            owner = (
                managers[index % len(managers)]
                if roll < 0.07 and managers
                else _weighted(rng, reps, rep_weights)
            )
            status = (
                Customer.Status.CLOSED
                if type_ == Customer.Type.LOST
                else _weighted(rng, [Customer.Status.FOLLOWING, Customer.Status.DORMANT], [88, 12])
            )
        owners[pk] = owner
        won = type_ == Customer.Type.WON
        amount = Decimal(rng.randrange(5, 500) * 10_000) if won else Decimal(0)
        pinyin, initials = pinyin_forms(name)
        industry = (
            rng.choice(divisions)
            if divisions and rng.random() < 0.7
            else (rng.choice(sections) if sections else None)
        )
        customer_rows.append([
            pk, f"{scale.CUSTOMER_NUMBER_PREFIX}{index + 1:07d}", name, normalize_name(name),
            pinyin, initials, type_, status, category, industry,
            _weighted(rng, scales, [10, 70, 20][: len(scales)]) if scales else None,
            rng.choice(Customer.EmployeeRange.values), rng.choice(Customer.RevenueRange.values),
            province[1] if province else None, province[0] if province else None, city, "",
            _address(rng, province_name, city),
            _weighted(rng, sources, [30, 25, 20, 15, 10][: len(sources)]) if sources else None,
            created, None, None,
            _weighted(rng, levels, [15, 35, 50][: len(levels)]) if rng.random() < 0.7 else None,
            amount, owner, created if owner else None, None, lifecycle,
            _weighted(rng, ["high", "medium", "low"], [1, 3, 6]),
            _weighted(rng, ["high", "medium", "low"], [2, 3, 5]),
            created + datetime.timedelta(days=rng.randrange(30, 300)) if won else None,
            now - datetime.timedelta(days=1),
            "", "{}", "", owner, created, created,
        ])  # fmt: skip
        for number in range(_weighted(rng, [1, 2, 3, 4], [35, 40, 18, 7])):
            phone = _phone(rng)
            contact_rows.append([
                pk, _person(rng), rng.choice(TITLES) if rng.random() < 0.7 else "",
                encrypt(phone), phone_index(phone), phone_last4(phone),
                f"c{pk}x{number}@example.cn" if rng.random() < 0.4 else "",
                rng.choice(Contact.Role.values) if rng.random() < 0.5 else "",
                _birthday(rng) if rng.random() < 0.3 else None,
                number == 0, created,
            ])  # fmt: skip
        chosen = rng.sample(tags, k=min(len(tags), _weighted(rng, [0, 1, 2], [30, 50, 20])))
        tag_rows.extend((pk, tag) for tag in chosen)
        if owner and rng.random() < 0.01:
            shared_rows.append((pk, rng.choice(reps)))
    scale.copy_rows(Customer, CUSTOMER_COLUMNS, customer_rows)
    scale.copy_rows(Contact, CONTACT_COLUMNS, contact_rows)
    scale.copy_rows(CustomerTag, ["customer_id", "tag_id"], tag_rows)
    scale.copy_rows(Customer.shared_with.through, ["customer_id", "user_id"], shared_rows)
    scale.analyze(Customer, Contact, CustomerTag)
    context.shared["customer_owners"] = owners
    context.shared["customer_created"] = {row[0]: row[36] for row in customer_rows}
    context.log(
        f"{len(customer_rows)} customers, {len(contact_rows)} contacts, {len(tag_rows)} tags"
    )


@scale.step(90, "tiers")
def settle_tiers(context: scale.ScaleContext) -> None:
    """Tiers as the nightly job leaves them, once every app's figures are in: the benchmark's
    tier sweep then meets a normal night, where few customers change tier."""
    changed = tiers.tiers_recompute(now=context.now)
    context.log(f"{changed} customers changed tier")


# --- the benchmark --------------------------------------------------------------------------------


@scale.prepare
def bench_samples(bench: scale.BenchContext) -> None:
    """A customer of the rep (every other bench user sees it too), and from it a name fragment
    of two characters, its pinyin and its initials, a contact's name, its first two characters
    and its surname, and the last four digits of a contact's phone."""
    rep = bench.users["rep"]
    customer = (
        generated_customers()
        .filter(owner=rep, contacts__phone_last4__regex=r"^\d{4}$")
        .exclude(name_pinyin="")
        .order_by("pk")
        .first()
    )
    if customer is None:
        raise LookupError("Run `manage.py seed_scale` first: the rep has no customers.")
    contact = customer.contacts.exclude(phone_last4="").order_by("pk").first()
    word = next((core for core in CORES if core in customer.name), customer.name[:2])
    bench.samples.update(
        customer=customer.pk,
        name=word,
        pinyin=pinyin_forms(word)[0],
        initials=customer.name_initials[:2],
        last4=contact.phone_last4 if contact else "",
        contact=contact.name if contact else "",
        contact_2=contact.name[:2] if contact else "",
        surname=contact.name[:1] if contact else "",
    )


def _list(query: dict[str, str]) -> Any:
    def url(bench: scale.BenchContext, role: str) -> str:
        values = {key: value.format(**bench.samples) for key, value in query.items()}
        return reverse("customers:list") + (f"?{urlencode(values)}" if values else "")

    return url


SEARCHERS = ("rep", "manager", "analyst")
scale.page("customer list", "list", url=_list({}))
scale.page(
    "customer list, filtered",
    "list",
    roles=SEARCHERS,
    url=_list({"type": "intention", "status": "following", "value_tier": "low"}),
)
scale.page("customer search: name", "search", roles=SEARCHERS, url=_list({"q": "{name}"}))
scale.page("customer search: pinyin", "search", roles=SEARCHERS, url=_list({"q": "{pinyin}"}))
scale.page("customer search: phone last 4", "search", roles=SEARCHERS, url=_list({"q": "{last4}"}))
scale.page("customer search: contact", "search", roles=SEARCHERS, url=_list({"q": "{contact}"}))
# The commonest Chinese searches, shorter than a trigram: 张伟, 张.
scale.page(
    "customer search: contact, 2 characters",
    "search",
    roles=SEARCHERS,
    url=_list({"q": "{contact_2}"}),
)
scale.page("customer search: 1 character", "search", roles=SEARCHERS, url=_list({"q": "{surname}"}))
# Two Latin letters: a name's initials (hw: 华为) or the start of its pinyin.
scale.page("customer search: 2 letters", "search", roles=SEARCHERS, url=_list({"q": "{initials}"}))
scale.page(
    "customer detail",
    "detail",
    roles=SEARCHERS,
    url=lambda bench, role: reverse("customers:detail", args=[bench.samples["customer"]]),
)


def _panel(key: str) -> Any:
    def url(bench: scale.BenchContext, role: str) -> str:
        return reverse("customers:panel", args=[bench.samples["customer"], key])

    return url


# The page loads each app's panel by htmx after itself: a user waits for those requests too.
for _key in panels.panel_keys():
    scale.page(f"customer panel: {_key}", "detail", roles=SEARCHERS, url=_panel(_key))


def _recompute_tiers(bench: scale.BenchContext) -> int:
    return tiers.tiers_recompute(now=timezone.now())


scale.job("tiers recompute", "sweep", run=_recompute_tiers)


def _import_file(count: int, seed: int = 1) -> bytes:
    """A CSV in the import template's columns: new companies, each with a contact and a phone."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    keys = [column.key for column in IMPORT_COLUMNS]
    rows = []
    for index in range(count):
        city, province = rng.choice(CITIES)
        values = {
            "name": f"{city}{rng.choice(CORES)}{rng.choice(TRADES)}{index:06d}有限公司",
            "province": province,
            "city": city,
            "contact_name": _person(rng),
            "phone": _phone(rng),
            "tags": "产品咨询" if index % 3 == 0 else "",
            "notes": "",
        }
        rows.append([values.get(key, "") for key in keys])
    return csv_bytes(import_template_headers(), rows)


def import_rows(bench: scale.BenchContext, count: int) -> int:
    """A ``count``-row CSV through the import's own path (preview, then run), by the manager,
    rolled back afterwards so the data set stays as generated."""
    from customers import transfer

    user: User = bench.users["manager"]
    data = _import_file(count)
    with transaction.atomic():
        job = transfer.import_job_create(
            user=user, upload=SimpleUploadedFile("scale.csv", data, content_type="text/csv")
        )
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
        job = transfer.import_job_run(job_id=job.pk)
        created = job.created_count
        job.file.delete(save=False)  # storage is not rolled back with the rows
        transaction.set_rollback(True)
    return created


scale.job("customer import", "import", run=lambda bench: import_rows(bench, bench.import_rows))
