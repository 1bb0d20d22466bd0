"""Demo customers: a few hundred realistic Chinese companies, institutions and individuals spread
over the dictionaries, the demo sales users and the last twelve months (DESIGN.md, Demo data).

Repeatable: everything is drawn from ``random.Random(2026)`` before the database is touched, and
a customer whose normalised name already exists is skipped, so running ``seed_demo`` twice
creates nothing the second time.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from crm.accounts.models import Province, Region, User
from crm.core import demo
from crm.core.phones import phone_index, phone_last4
from customers.models import (
    Contact,
    Customer,
    CustomerCategory,
    CustomerLevel,
    CustomerScale,
    DemandTag,
    Industry,
    LeadInquiry,
    SourceChannel,
)
from customers.names import normalize_name, pinyin_forms
from customers.services import customer_create
from customers.tiers import tiers_recompute

SEED = 2026
COUNT = 300
UNASSIGNED = 20

# city: (province, districts); weights favour East and South China, where the demo teams sell.
CITIES: dict[str, tuple[str, list[str]]] = {
    "杭州": ("浙江", ["西湖区", "滨江区", "余杭区", "萧山区"]),
    "宁波": ("浙江", ["鄞州区", "北仑区", "海曙区"]),
    "温州": ("浙江", ["鹿城区", "瓯海区"]),
    "上海": ("上海", ["浦东新区", "闵行区", "徐汇区", "嘉定区"]),
    "苏州": ("江苏", ["工业园区", "吴中区", "昆山市"]),
    "南京": ("江苏", ["江宁区", "鼓楼区", "建邺区"]),
    "无锡": ("江苏", ["新吴区", "滨湖区"]),
    "合肥": ("安徽", ["蜀山区", "包河区"]),
    "厦门": ("福建", ["思明区", "湖里区"]),
    "福州": ("福建", ["鼓楼区", "仓山区"]),
    "青岛": ("山东", ["黄岛区", "市南区"]),
    "济南": ("山东", ["历下区", "高新区"]),
    "南昌": ("江西", ["红谷滩区", "青山湖区"]),
    "深圳": ("广东", ["南山区", "福田区", "宝安区", "龙岗区"]),
    "广州": ("广东", ["天河区", "番禺区", "黄埔区"]),
    "东莞": ("广东", ["松山湖", "长安镇"]),
    "佛山": ("广东", ["顺德区", "南海区"]),
    "南宁": ("广西", ["青秀区", "西乡塘区"]),
    "海口": ("海南", ["龙华区", "美兰区"]),
    "北京": ("北京", ["海淀区", "朝阳区", "丰台区"]),
    "天津": ("天津", ["滨海新区", "南开区"]),
    "石家庄": ("河北", ["长安区", "裕华区"]),
    "武汉": ("湖北", ["洪山区", "江汉区", "东湖高新区"]),
    "长沙": ("湖南", ["岳麓区", "雨花区"]),
    "郑州": ("河南", ["金水区", "郑东新区"]),
    "成都": ("四川", ["高新区", "武侯区", "锦江区"]),
    "重庆": ("重庆", ["渝北区", "江北区", "沙坪坝区"]),
    "昆明": ("云南", ["五华区", "官渡区"]),
    "西安": ("陕西", ["雁塔区", "未央区"]),
    "银川": ("宁夏", ["金凤区"]),
    "沈阳": ("辽宁", ["和平区", "浑南区"]),
    "大连": ("辽宁", ["甘井子区", "中山区"]),
    "哈尔滨": ("黑龙江", ["南岗区", "道里区"]),
}
CITY_WEIGHTS = {
    "杭州": 8, "宁波": 4, "上海": 8, "苏州": 6, "南京": 5, "深圳": 7, "广州": 6, "东莞": 3,
    "佛山": 3, "北京": 5, "武汉": 3, "成都": 4, "重庆": 3, "西安": 2,
}  # fmt: skip
STREETS = ["人民路", "解放路", "中山路", "建设路", "科技园路", "创新大道", "长江路", "文化路",
           "学院路", "湖滨路", "工业大道", "高新一路"]  # fmt: skip

# Invented brand words (字号), none of them a well-known company's.
BRANDS = ["云启", "华屹", "鼎泰", "恒达", "瑞丰", "博远", "启明", "凯盛", "远航", "汇通", "嘉禾",
          "安捷", "鸿运", "金桥", "新锐", "宏图", "明德", "睿智", "瀚海", "永兴", "德润", "盛世",
          "锦程", "星辰", "蓝海", "智远", "思源", "同创", "华辰", "联创", "坤泰", "恒信", "和光",
          "青禾", "方圆", "精诚", "普瑞", "天成", "聚源", "泽润", "长行", "乐行", "九章", "北辰",
          "东升", "诚达", "卓尔", "弘毅"]  # fmt: skip

# Industry code (level 2 where the dictionary has one): words of a company's name, and weight.
INDUSTRIES: dict[str, tuple[list[str], int]] = {
    "C13": (["食品", "农产品加工"], 3),
    "C26": (["化工", "新材料"], 3),
    "C27": (["医药", "生物医药"], 3),
    "C34": (["机械", "通用设备"], 5),
    "C35": (["智能装备", "精密设备"], 5),
    "C36": (["汽车零部件", "汽车配件"], 4),
    "C38": (["电气", "电力设备"], 4),
    "C39": (["电子", "通信设备"], 5),
    "D": (["能源", "燃气"], 2),
    "E": (["建设工程", "建筑工程"], 3),
    "F51": (["商贸", "贸易"], 5),
    "F52": (["零售", "商业连锁"], 3),
    "G": (["物流", "供应链管理"], 4),
    "H": (["餐饮管理", "酒店管理"], 2),
    "I63": (["通信技术", "网络工程"], 2),
    "I64": (["网络科技", "互联网科技"], 4),
    "I65": (["软件", "信息技术", "科技"], 8),
    "K": (["置业", "物业服务"], 1),
    "L": (["企业管理咨询", "商务服务", "旅游服务"], 3),
    "M": (["检测技术", "技术服务"], 2),
    "N": (["环保科技", "环境工程"], 2),
    "P": (["教育科技", "培训"], 2),
    "Q": (["健康管理", "医疗科技"], 2),
    "R": (["文化传媒", "广告"], 2),
}
INSTITUTIONS = [("研究院", "M"), ("职业技术学院", "P"), ("医院", "Q"), ("信息中心", "S")]
INDIVIDUAL_INDUSTRIES = ["F52", "H", "O", "F51"]

# Names that show off pinyin search: polyphones (重庆 chongqing, 长沙 changsha, 厦门 xiamen,
# 乐行 lexing, 和乐 hele) and short initials (华启科技 hqkj).
SHOWCASE = [
    ("重庆长行机械有限公司", "C34", "重庆"),
    ("厦门乐行旅游服务有限公司", "L", "厦门"),
    ("华启科技有限公司", "I65", "北京"),
    ("长沙重工智能装备股份有限公司", "C35", "长沙"),
    ("银川和乐商贸有限公司", "F51", "银川"),
]

SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕")
GIVEN = [
    *"伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚",
    *("秀英", "建华", "志强", "晓东", "海燕", "文博", "子涵", "欣怡", "浩然", "思远"),
    *("雨桐", "俊杰", "嘉怡", "国平", "玉兰", "立新", "春梅", "宏伟"),
]
TITLES = [
    ("总经理", "decision_maker"),
    ("董事长", "decision_maker"),
    ("采购经理", "influencer"),
    ("技术总监", "influencer"),
    ("IT 主管", "user"),
    ("财务经理", "influencer"),
    ("行政主管", "user"),
    ("项目经理", "user"),
    ("生产部长", "user"),
    ("副总经理", "decision_maker"),
]
NOTES = ["", "", "", "展会上交换了名片，对新品感兴趣。", "老客户介绍，预算已确认。",
         "希望下季度安排现场演示。", "关注售后响应时效。", "对价格较敏感，需要比价。"]  # fmt: skip

# type, weight, lifecycles to choose from
TYPES = [
    (Customer.Type.POTENTIAL, 40, [Customer.Lifecycle.FIRST_CONTACT]),
    (Customer.Type.INTENTION, 35, [Customer.Lifecycle.INTENTION]),
    (Customer.Type.WON, 18, [Customer.Lifecycle.COOPERATING] * 3 + [Customer.Lifecycle.RENEWAL]),
    (Customer.Type.LOST, 7, [Customer.Lifecycle.LOST]),
]
OWNERS = [("rep1", 40), ("rep2", 32), ("manager", 28)]
SCALE_RANGES = {
    "大型企业": (["500-999", "gte1000"], ["100m-1b", "gte1b"]),
    "中小企业": (["lt20", "20-99", "100-499"], ["lt1m", "1m-10m", "10m-100m"]),
    "个体商户": (["lt20"], ["lt1m"]),
}


@dataclass
class DemoContact:
    name: str
    title: str
    phone: str
    decision_role: str
    email: str = ""
    birthday: datetime.date | None = None


@dataclass
class DemoCustomer:
    name: str
    category: str
    industry: str
    city: str
    district: str
    address: str
    scale: str
    employee_range: str
    revenue_range: str
    level: str
    source: str
    tags: list[str]
    type: str
    lifecycle: str
    owner: str | None
    created_days_ago: float
    contacts: list[DemoContact]
    annual_amount: Decimal = Decimal("0")
    cooperation_days_ago: float | None = None
    budget: tuple[Decimal, Decimal] | None = None
    notes: str = ""
    inquiry_days_ago: list[float] = field(default_factory=list)


class _Draw:
    """Draws the demo customers; no database access, so every run draws the same ones."""

    def __init__(self) -> None:
        self.rng = random.Random(SEED)  # noqa: S311 - repeatable demo data, not secrets
        self.names: set[str] = set()
        self.phones: set[str] = set()

    def weighted(self, options: dict[str, int]) -> str:
        keys = list(options)
        return self.rng.choices(keys, weights=[options[key] for key in keys])[0]

    def city(self) -> str:
        return self.weighted({city: CITY_WEIGHTS.get(city, 1) for city in CITIES})

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def phone(self) -> str:
        while True:
            number = f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def unique(self, make: Any) -> str:
        while True:
            name: str = make()
            if normalize_name(name) not in self.names:
                self.names.add(normalize_name(name))
                return name

    def contact(self, company: str, *, first: bool) -> DemoContact:
        name = self.person()
        title, role = self.rng.choice(TITLES[:2] if first else TITLES[2:])
        email = ""
        if self.rng.random() < 0.6:
            domain = pinyin_forms(company)[1] or "corp"
            email = f"{pinyin_forms(name)[0]}@{domain}.example.com"
        birthday = None
        if self.rng.random() < 0.4:
            birthday = datetime.date(1965, 1, 1) + datetime.timedelta(
                days=self.rng.randrange(11000)
            )
        return DemoContact(name, title, self.phone(), role, email, birthday)

    def customer(self, index: int) -> DemoCustomer:
        rng = self.rng
        roll = rng.random()
        if index < len(SHOWCASE):
            name, industry, city = SHOWCASE[index]
            self.names.add(normalize_name(name))
            category, scale = "企业客户", rng.choice(["大型企业", "中小企业"])
        elif roll < 0.06:
            category, scale, city = "个人客户", "个体商户", self.city()
            industry = rng.choice(INDIVIDUAL_INDUSTRIES)
            name = self.unique(self.person)
        elif roll < 0.13:
            category, scale, city = "机构", "大型企业", self.city()
            kind, industry = rng.choice(INSTITUTIONS)
            name = self.unique(lambda: f"{city}{rng.choice(BRANDS)}{kind}")
        else:
            category, city = "企业客户", self.city()
            scale = self.weighted({"大型企业": 2, "中小企业": 7, "个体商户": 1})
            industry = self.weighted({code: weight for code, (_, weight) in INDUSTRIES.items()})
            words = INDUSTRIES[industry][0]
            suffix = self.weighted({"有限公司": 8, "股份有限公司": 1, "集团有限公司": 1})
            name = self.unique(lambda: f"{city}{rng.choice(BRANDS)}{rng.choice(words)}{suffix}")
        employees, revenues = SCALE_RANGES[scale]
        province, districts = CITIES[city]
        district = rng.choice(districts)
        customer_type, lifecycle = self._type()
        owner = None if index >= COUNT - UNASSIGNED else self.weighted(dict(OWNERS))
        created = rng.uniform(1, 30) if owner is None else rng.uniform(20, 365)
        customer = DemoCustomer(
            name=name,
            category=category,
            industry=industry,
            city=city,
            district=district,
            address=f"{province}{city}{district}{rng.choice(STREETS)}{rng.randint(1, 999)}号",
            scale=scale,
            employee_range=rng.choice(employees),
            revenue_range=rng.choice(revenues),
            level=rng.choice(["A 级", "B 级", "B 级", "C 级", "C 级", "C 级"]),
            source=self.weighted(
                {
                    "exhibition": 3,
                    "online_ads": 3,
                    "referral": 2,
                    "website_form": 3,
                    "website_signup": 1,
                }
            ),
            tags=rng.sample(
                ["采购设备", "寻求合作", "技术咨询", "产品咨询", "价格问询", "合作洽谈"],
                rng.randint(1, 3),
            )
            + rng.choice([[], [], [], ["价格敏感型"], ["技术优先型"], ["曾投诉质量"]]),
            type=Customer.Type.POTENTIAL if owner is None else customer_type,
            lifecycle=Customer.Lifecycle.FIRST_CONTACT if owner is None else lifecycle,
            owner=owner,
            created_days_ago=created,
            contacts=[],
            notes=rng.choice(NOTES),
        )
        customer.contacts = [
            self.contact(name, first=number == 0)
            for number in range(1 if category == "个人客户" else rng.randint(1, 3))
        ]
        if category == "个人客户":
            customer.contacts[0].name, customer.contacts[0].title = name, ""
        if customer.type == Customer.Type.LOST and created < 130:
            # A lost customer has a history: won long enough ago to have lapsed since.
            created = customer.created_days_ago = rng.uniform(130, 365)
        if customer.type in (Customer.Type.WON, Customer.Type.LOST):
            customer.annual_amount = Decimal(
                rng.choice([rng.randint(3, 9), rng.randint(10, 48), rng.randint(50, 300)]) * 10000
            )
            if customer.type == Customer.Type.WON:
                customer.cooperation_days_ago = rng.uniform(2, min(80, created))
            else:
                customer.cooperation_days_ago = rng.uniform(100, created - 20)
        elif customer.type == Customer.Type.INTENTION:
            low = Decimal(rng.randint(5, 80) * 10000)
            customer.budget = (low, low * 2)
        if customer.source != "referral":
            burst = rng.choice([0, 0, 1, 1, 2, 3, 5, 8, 20])
            customer.inquiry_days_ago = sorted(
                rng.uniform(0, min(created, 180)) for _ in range(burst)
            )
        return customer

    def _type(self) -> tuple[str, str]:
        weights = {str(kind): weight for kind, weight, _ in TYPES}
        kind = self.weighted(weights)
        lifecycles = next(stages for value, _, stages in TYPES if value == kind)
        return kind, self.rng.choice(lifecycles)


def demo_customers() -> list[DemoCustomer]:
    draw = _Draw()
    return [draw.customer(index) for index in range(COUNT)]


@demo.register(20, "customers")
def seed_customers() -> None:
    wanted = demo_customers()
    existing = set(
        Customer.objects.filter(
            name_normalized__in=[normalize_name(item.name) for item in wanted]
        ).values_list("name_normalized", flat=True)
    )
    missing = [item for item in wanted if normalize_name(item.name) not in existing]
    if not missing:
        return
    users = {user.username: user for user in User.objects.filter(username__in=dict(OWNERS))}
    lookups = _Lookups()
    now = timezone.now()
    created_ids = []
    contacts: list[Contact] = []
    inquiries = []
    for item in missing:
        created_at = now - datetime.timedelta(days=item.created_days_ago)
        owner = users[item.owner] if item.owner else None
        fields: dict[str, Any] = {
            "name": item.name,
            "type": item.type,
            "lifecycle": item.lifecycle,
            "category": lookups.categories[item.category],
            "industry": lookups.industries[item.industry],
            "scale": lookups.scales[item.scale],
            "employee_range": item.employee_range,
            "revenue_range": item.revenue_range,
            "province": lookups.provinces[CITIES[item.city][0]],
            "region": lookups.provinces[CITIES[item.city][0]].region,
            "city": item.city,
            "district": item.district,
            "address": item.address,
            "source": lookups.sources[item.source],
            "level": lookups.levels[item.level],
            "annual_amount": item.annual_amount,
            "first_contact_at": created_at,
            "notes": item.notes,
            "created_at": created_at,
        }
        if item.cooperation_days_ago is not None:
            fields["last_cooperation_at"] = now - datetime.timedelta(days=item.cooperation_days_ago)
        if item.budget:
            fields["budget_min"], fields["budget_max"] = item.budget
        customer = customer_create(
            by=owner, owner=owner, tags=[lookups.tags[tag] for tag in item.tags], **fields
        )
        # Contacts in one batch rather than through contact_add (six queries each): drawn valid,
        # they need neither its validation nor its primary-contact juggling.
        contacts += [
            Contact(
                customer=customer,
                name=contact.name,
                title=contact.title,
                phone=contact.phone,
                phone_index=phone_index(contact.phone),
                phone_last4=phone_last4(contact.phone),
                email=contact.email,
                decision_role=contact.decision_role,
                birthday=contact.birthday,
                is_primary=index == 0,
                created_at=created_at,
            )
            for index, contact in enumerate(item.contacts)
        ]
        created_ids.append(customer.pk)
        inquiries += [
            LeadInquiry(
                customer=customer,
                source=customer.source,
                contact_name=item.contacts[0].name,
                captured_at=now - datetime.timedelta(days=days),
                created_new=index == 0,
            )
            for index, days in enumerate(item.inquiry_days_ago)
        ]
    bulk_create_with_history(contacts, Contact, default_date=now)
    LeadInquiry.objects.bulk_create(inquiries)
    # Assigned a few hours after it came in, not today: no-contact warnings stay quiet.
    Customer.objects.filter(pk__in=created_ids, assigned_at__isnull=False).update(
        assigned_at=F("created_at") + datetime.timedelta(hours=3)
    )
    tiers_recompute(now=now)


class _Lookups:
    """The dictionaries by their Chinese name (or code), each read in one query."""

    def __init__(self) -> None:
        self.categories = {row.name: row for row in CustomerCategory.objects.all()}
        self.scales = {row.name: row for row in CustomerScale.objects.all()}
        self.levels = {row.name: row for row in CustomerLevel.objects.all()}
        self.tags = {row.name: row for row in DemandTag.objects.all()}
        self.sources = {row.code: row for row in SourceChannel.objects.all()}
        self.industries = {row.code: row for row in Industry.objects.all()}
        regions = {row.pk: row for row in Region.objects.all()}
        self.provinces = {}
        for province in Province.objects.all():
            province.region = regions[province.region_id]
            self.provinces[province.name] = province
