from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.db.models import F, Func, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.accounts.models import Province, Region, User
from crm.accounts.roles import Level, Role
from crm.core.fields import EncryptedTextField
from crm.core.links import record_url
from crm.core.phones import validate_phone
from crm.core.search import SHORT, contains, icontains, is_short_chinese
from crm.core.visibility import InSubquery, VisibleQuerySet, team_owners
from customers.models.counts import OwnerCount
from customers.models.dictionaries import (
    CustomerCategory,
    CustomerLevel,
    CustomerScale,
    DemandTag,
    Industry,
    SourceChannel,
    Tier,
)


class CustomerQuerySet(VisibleQuerySet["Customer"]):
    shared_field = "shared_with"

    def visible_to(self, user):  # type: ignore[no-untyped-def,override]
        """Owned records by the contract, plus the to-be-assigned pool for sales managers."""
        scoped = super().visible_to(user)
        if user.is_authenticated and user.is_active and self._sees_pool(user):
            return scoped | self.filter(owner__isnull=True)
        return scoped

    @staticmethod
    def _sees_pool(user: User) -> bool:
        """Sales managers below the whole company's reach see the to-be-assigned pool too."""
        return user.visibility.level != Level.ALL and Role.SALES_MANAGER in user.roles

    def count_visible_to(self, user) -> int:  # type: ignore[no-untyped-def]
        """The number of customers ``user`` may see, ``Customer.objects.visible_to(user)``
        (whatever this queryset filters), from the owners' customer counts (``OwnerCount``) on
        Postgres: the counts of the owners the user sees (and the pool's, for a sales manager),
        plus the customers shared with them beyond those, in one query over a few rows. The
        same rule as ``visible_to``, which a test holds them to."""
        if connection.vendor != "postgresql" or not (user.is_authenticated and user.is_active):
            return Customer.objects.visible_to(user).count()
        total = Coalesce(Sum("customers"), 0)
        if user.visibility.level == Level.ALL:
            return OwnerCount.objects.aggregate(total=total)["total"]
        owners: Any = team_owners(user)
        if owners is None:
            owners = [user.pk]
        counted = Q(owner_key__in=owners)
        beyond = Customer.objects.filter(shared_with=user).exclude(owner__in=owners)
        if self._sees_pool(user):
            counted |= Q(owner_key=OwnerCount.POOL)
            beyond = beyond.exclude(owner__isnull=True)
        shared = beyond.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
        return OwnerCount.objects.filter(counted).aggregate(
            total=total + Subquery(shared, output_field=models.IntegerField())
        )["total"]

    def search(self, text: str) -> CustomerQuerySet:
        """Number, name (also pinyin and initials), contact name, phone (full or last 4), tag."""
        from crm.core.phones import digits, phone_index

        text = text.strip()
        if not text:
            return self
        lowered = text.casefold()

        def customers_with(queryset: models.QuerySet) -> Q:
            # By subquery, not EXISTS: each arm of the OR stays an index scan (InSubquery).
            return Q(InSubquery(F("pk"), queryset.order_by().values("customer_id")))

        initials = Q(name_initials__startswith=lowered)
        if len(lowered) <= SHORT and lowered.isascii():
            # One or two Latin letters start a name typed in pinyin ("li": 李…) or its initials
            # ("hw": 华为): matched from the start, which the pinyin's trigram index serves
            # (LIKE 'li%' has the trigrams of a word's start). Anywhere in the pinyin they
            # would match half the archive, tested row by row.
            pinyin = Q(name_pinyin__startswith=lowered)
        else:
            pinyin = contains("name_pinyin", lowered, mostly_ascii=True)
        if is_short_chinese(text):
            # Its LIKE is checked row by row; by subquery, every arm is answered by its index
            # exactly, and Postgres tests nothing more on the thousands one character finds.
            initials = Q(
                InSubquery(F("pk"), Customer.objects.filter(initials).order_by().values("pk"))
            )
        condition = (
            Q(number__iexact=text)
            | icontains("name", text)
            | pinyin
            | initials
            | customers_with(Contact.objects.filter(icontains("name", text)))
            | customers_with(CustomerTag.objects.filter(tag__name=text))
        )
        number = digits(text)
        if number and len(number) == len(text.replace(" ", "").replace("-", "").lstrip("+")):
            if len(number) == 4:
                condition |= customers_with(Contact.objects.filter(phone_last4=number))
            elif len(number) >= 7:
                condition |= customers_with(Contact.objects.filter(phone_index=phone_index(number)))
        return self.filter(condition)

    def to_be_assigned(self) -> CustomerQuerySet:
        return self.filter(status=Customer.Status.TO_BE_ASSIGNED)

    def with_primary_contact(self) -> CustomerQuerySet:
        return self.prefetch_related(
            models.Prefetch(
                "contacts",
                queryset=Contact.objects.filter(is_primary=True),
                to_attr="primary_contacts",
            )
        )


class Customer(models.Model):
    """A customer record (客户档案): an enterprise or a person."""

    class Type(models.TextChoices):
        POTENTIAL = "potential", _("Potential customer")
        INTENTION = "intention", _("Intention customer")
        WON = "won", _("Won customer")
        LOST = "lost", _("Lost customer")

    class Status(models.TextChoices):
        TO_BE_ASSIGNED = "to_be_assigned", _("To be assigned")
        FOLLOWING = "following", _("Following up")
        DORMANT = "dormant", _("Dormant")
        CLOSED = "closed", _("Closed")

    class Lifecycle(models.TextChoices):
        FIRST_CONTACT = "first_contact", _("First contact")
        INTENTION = "intention", _("Intention")
        COOPERATING = "cooperating", _("Cooperating")
        RENEWAL = "renewal", _("Renewal")
        LOST = "lost", _("Lost")

    class EmployeeRange(models.TextChoices):
        UNDER_20 = "lt20", _("Fewer than 20")
        FROM_20 = "20-99", _("20–99")
        FROM_100 = "100-499", _("100–499")
        FROM_500 = "500-999", _("500–999")
        OVER_1000 = "gte1000", _("1,000 or more")

    class RevenueRange(models.TextChoices):
        UNDER_1M = "lt1m", _("Under ¥1 million")
        FROM_1M = "1m-10m", _("¥1–10 million")
        FROM_10M = "10m-100m", _("¥10–100 million")
        FROM_100M = "100m-1b", _("¥100 million – ¥1 billion")
        OVER_1B = "gte1b", _("¥1 billion or more")

    number = models.CharField(_("customer number"), max_length=20, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    name_normalized = models.CharField(max_length=200, db_index=True, editable=False)
    name_pinyin = models.CharField(max_length=300, blank=True, editable=False)
    name_initials = models.CharField(max_length=100, blank=True, db_index=True, editable=False)
    type = models.CharField(
        _("customer type"), max_length=20, choices=Type.choices, default=Type.POTENTIAL
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.FOLLOWING
    )
    category = models.ForeignKey(
        CustomerCategory, on_delete=models.PROTECT, verbose_name=_("category")
    )
    industry = models.ForeignKey(
        Industry, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("industry")
    )
    scale = models.ForeignKey(
        CustomerScale, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("scale")
    )
    employee_range = models.CharField(
        _("employees"), max_length=10, choices=EmployeeRange.choices, blank=True
    )
    revenue_range = models.CharField(
        _("annual revenue"), max_length=10, choices=RevenueRange.choices, blank=True
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("region")
    )
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("province")
    )
    city = models.CharField(_("city"), max_length=50, blank=True)
    district = models.CharField(_("district"), max_length=50, blank=True)
    address = EncryptedTextField(_("address"), blank=True)
    source = models.ForeignKey(
        SourceChannel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("source channel"),
    )
    tags = models.ManyToManyField(
        DemandTag,
        through="CustomerTag",
        blank=True,
        related_name="customers",
        verbose_name=_("tags"),
    )
    first_contact_at = models.DateTimeField(_("first contact time"), null=True, blank=True)
    budget_min = models.DecimalField(
        _("budget from (¥)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    budget_max = models.DecimalField(
        _("budget up to (¥)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    level = models.ForeignKey(
        CustomerLevel, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("level")
    )
    annual_amount = models.DecimalField(
        _("annual amount (¥)"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("owner"),
    )
    shared_with = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="shared_customers",
        verbose_name=_("shared with"),
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    next_follow_up_due = models.DateTimeField(
        _("next follow-up due"), null=True, blank=True, db_index=True
    )
    lifecycle = models.CharField(
        _("lifecycle stage"),
        max_length=20,
        choices=Lifecycle.choices,
        default=Lifecycle.FIRST_CONTACT,
    )
    value_tier = models.CharField(_("value tier"), max_length=10, choices=Tier.choices, blank=True)
    activity_tier = models.CharField(
        _("activity tier"), max_length=10, choices=Tier.choices, blank=True
    )
    last_cooperation_at = models.DateTimeField(_("last cooperation"), null=True, blank=True)
    tiers_computed_at = models.DateTimeField(null=True, blank=True, editable=False)
    notes = models.TextField(_("notes"), blank=True)
    custom_data = models.JSONField(_("custom fields"), default=dict, blank=True)
    assignment_error = models.CharField(_("assignment problem"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["name_normalized", "name_pinyin", "name_initials"])

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["type"]),
            models.Index(fields=["lifecycle"]),
            models.Index(fields=["value_tier"]),
            models.Index(fields=["activity_tier"]),
            # Dashboards: new customers by month, source and type, and the customers by tier,
            # each read from its index alone (owner and id: the visibility rule's arms).
            models.Index(
                fields=["created_at"],
                include=["source", "type", "owner", "id"],
                name="customer_created_cover",
            ),
            models.Index(
                fields=["value_tier", "activity_tier", "type"],
                include=["owner", "id"],
                name="customer_tiers",
            ),
            # Search (CustomerQuerySet.search) by number__iexact. On Postgres, migration 0005
            # adds trigram indexes for name__icontains and the pinyin, 0006 indexes of their
            # characters and pairs of characters (crm.core.search).
            models.Index(Upper("number"), name="customer_number_upper"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"

    def get_absolute_url(self) -> str:
        return record_url("customers:detail", self.pk)

    def is_in_owner_line(self, user) -> bool:  # type: ignore[no-untyped-def]
        """The owner, anyone above them in the team tree with team reach, or an admin: the
        people who see contact details unmasked (SPEC §7)."""
        if not user.is_authenticated:
            return False
        if user.is_superuser or Role.ADMIN in user.roles:
            return True
        if self.owner_id is None:
            return Role.SALES_MANAGER in user.roles
        if self.owner_id == user.pk:
            return True
        visibility = user.visibility
        return visibility.level in (Level.TEAM, Level.DEPARTMENT) and bool(
            self.owner and self.owner.team_id in visibility.team_ids
        )


class CustomerTag(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    tag = models.ForeignKey(DemandTag, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "tag"], name="customer_tag_unique")
        ]
        verbose_name = _("customer tag")
        verbose_name_plural = _("customer tags")

    def __str__(self) -> str:
        return f"{self.customer_id}:{self.tag_id}"


class Contact(models.Model):
    """联系人 of a customer."""

    class Role(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("Decision maker")
        USER = "user", _("User")
        INFLUENCER = "influencer", _("Influencer")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title / position"), max_length=100, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True, validators=[validate_phone])
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone_last4 = models.CharField(max_length=4, blank=True, db_index=True, editable=False)
    email = models.EmailField(_("email"), blank=True)
    decision_role = models.CharField(
        _("decision-chain role"), max_length=20, choices=Role.choices, blank=True
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords(excluded_fields=["phone_index", "phone_last4"])

    class Meta:
        ordering = ["-is_primary", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        # On Postgres, migrations 0005 and 0006 add trigram and character indexes for search
        # by name (crm.core.search).
        indexes = [models.Index(fields=["email"])]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_primary=True),
                name="contact_one_primary_per_customer",
            )
        ]

    def __str__(self) -> str:
        return self.name


class RevealLog(models.Model):
    """Who unmasked which personal field of which record, and when (SPEC §7)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="reveals")
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    field = models.CharField(_("field"), max_length=30)
    revealed_at = models.DateTimeField(_("revealed at"), default=timezone.now)

    class Meta:
        ordering = ["-revealed_at"]
        verbose_name = _("reveal log entry")
        verbose_name_plural = _("reveal log")

    def __str__(self) -> str:
        return f"{self.user_id} {self.field} {self.revealed_at:%Y-%m-%d %H:%M}"
