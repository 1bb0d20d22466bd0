"""The rows of an import or export file and the customers they stand for: columns and their
Chinese and English headers, reading CSV and XLSX, turning a row into model values (and every
problem with it), and writing a customer back as a row. No saving here: customers.transfer does
that through the archive's services."""

from __future__ import annotations

import csv
import datetime
import io
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.accounts.models import Province, Region, User
from crm.core.phones import mask_address, mask_phone, validate_phone
from customers.forms import custom_form_field, to_json_value
from customers.models import (
    Customer,
    CustomerCategory,
    CustomField,
    DemandTag,
    FileFormat,
    Industry,
    SourceChannel,
)

DEFAULT_CATEGORY = "企业客户"
TAG_SEPARATORS = re.compile(r"[、,，;；\n]+")
PROVINCE_SUFFIXES = (
    "维吾尔自治区",
    "特别行政区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "省",
    "市",
)
TYPE_ALIASES = {  # SPEC §1 vocabulary, whatever the translation catalogue says
    "潜在客户": Customer.Type.POTENTIAL,
    "潜在": Customer.Type.POTENTIAL,
    "意向客户": Customer.Type.INTENTION,
    "意向": Customer.Type.INTENTION,
    "成交客户": Customer.Type.WON,
    "成交": Customer.Type.WON,
    "流失客户": Customer.Type.LOST,
    "流失": Customer.Type.LOST,
}


# --- columns --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise  # the header we write (in the user's language)
    aliases: tuple[str, ...] = ()  # further headers accepted on import


IMPORT_COLUMNS = (
    Column("name", gettext_lazy("Customer name"), ("客户名称", "名称", "name", "customer")),
    Column("category", gettext_lazy("Category"), ("客户分类", "分类", "category")),
    Column("industry", gettext_lazy("Industry"), ("行业", "所属行业", "industry")),
    Column("source", gettext_lazy("Source channel"), ("来源渠道", "来源", "source")),
    Column("region", gettext_lazy("Region"), ("区域", "地区", "大区", "region")),
    Column("province", gettext_lazy("Province"), ("省份", "省", "province")),
    Column("city", gettext_lazy("City"), ("城市", "city")),
    Column("address", gettext_lazy("Address"), ("地址", "详细地址", "address")),
    Column("contact_name", gettext_lazy("Contact"), ("联系人", "联系人姓名", "contact name")),
    Column(
        "phone", gettext_lazy("Phone"), ("电话", "联系电话", "手机", "手机号", "phone", "mobile")
    ),
    Column("email", gettext_lazy("Email"), ("邮箱", "电子邮箱", "email", "e-mail")),
    Column("tags", gettext_lazy("Tags"), ("需求标签", "标签", "tags")),
    Column("type", gettext_lazy("Customer type"), ("客户类型", "类型", "type")),
    Column("owner", gettext_lazy("Owner"), ("负责人", "owner")),
    Column("notes", gettext_lazy("Notes"), ("备注", "notes")),
)
# Written by the export and recognised (then ignored) by the import, so an export re-imports.
EXPORT_ONLY_COLUMNS = (
    Column("number", gettext_lazy("Customer number"), ("客户编号", "number")),
    Column("status", gettext_lazy("Status"), ("状态", "status")),
    Column("created_at", gettext_lazy("Created at"), ("创建时间", "created at")),
)


def _key(text: Any) -> str:
    """How headers and dictionary names are compared: full-width folded, case and spaces ignored."""
    return _folded(str(text))


@lru_cache(maxsize=4096)
def _folded(text: str) -> str:
    # A file repeats its provinces, categories and tags on every row.
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _header_key(text: str) -> str:
    value = _key(text).replace("*", "")
    for marker in ("(必填)", "(选填)", "(required)", "(optional)"):
        value = value.replace(marker, "")
    return value.strip()


def _in_every_language(text: str | Promise) -> set[str]:
    found = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            found.add(_key(str(text)))
    return found


def _header_table(custom_fields: list[CustomField]) -> dict[str, str]:
    """Header key → column key (custom fields as ``cf:<key>``)."""
    table: dict[str, str] = {}
    for definition in custom_fields:
        for text in (definition.key, definition.label, definition.label_en):
            if text:
                table[_header_key(text)] = f"cf:{definition.key}"
    for column in (*EXPORT_ONLY_COLUMNS, *IMPORT_COLUMNS):  # built-in headers win
        for text in (column.key, *column.aliases):
            table[_header_key(text)] = column.key
        for text in _in_every_language(column.label):
            table[_header_key(text)] = column.key
    return table


def import_template_headers() -> list[str]:
    """The headers of the downloadable template: ours, then the active custom fields."""
    headers = [str(column.label) for column in IMPORT_COLUMNS]
    headers[0] += "*"
    headers.extend(
        definition.display_label + ("*" if definition.required else "")
        for definition in CustomField.objects.filter(is_active=True)
    )
    return headers


# --- reading files --------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    # Excel on Chinese Windows saves CSV as GB18030 (GBK); everything else sends UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(_("The CSV file is neither UTF-8 nor GBK text."), code="encoding")


def _cell(value: Any) -> str:
    if type(value) is str:  # every CSV cell, most XLSX ones
        return value.replace("\ufeff", "").strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # phone numbers typed into Excel come back as 13812345678.0
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).replace("\ufeff", "").strip()


class Table:
    """The rows of an uploaded file as lists of text cells; iterating twice re-reads the bytes."""

    def __init__(self, data: bytes, file_format: str) -> None:
        self.data = data
        self.file_format = file_format
        rows = self._records()
        try:
            first = next(rows)
        except StopIteration:
            first = []
        finally:
            rows.close()
        self.headers = [_cell(value) for value in first]

    def _records(self) -> Generator[list[Any], None, None]:
        if self.file_format == FileFormat.XLSX:
            yield from self._xlsx_records()
            return
        text = _decode(self.data)
        first_line = text.split("\n", 1)[0]
        delimiter = max((",", "\t", ";"), key=first_line.count)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            yield from reader
        except csv.Error as error:
            raise ValidationError(
                _("The CSV file is damaged near line %(line)d.") % {"line": reader.line_num},
                code="bad_csv",
            ) from error

    def _xlsx_records(self) -> Generator[list[Any], None, None]:
        import openpyxl

        try:
            workbook = openpyxl.load_workbook(io.BytesIO(self.data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
            raise ValidationError(
                _("The file could not be read as an Excel workbook (.xlsx)."), code="bad_xlsx"
            ) from error
        try:
            sheet = workbook.worksheets[0]
            for values in sheet.iter_rows(values_only=True):
                yield list(values)
        except (KeyError, ValueError, TypeError, SyntaxError, zipfile.BadZipFile) as error:
            # A damaged sheet (ParseError is a SyntaxError) is the file's fault, not ours.
            raise ValidationError(
                _("The file could not be read as an Excel workbook (.xlsx)."), code="bad_xlsx"
            ) from error
        finally:
            workbook.close()

    def rows(self, start: int = 0) -> Iterator[tuple[int, list[str]]]:
        """(row number as the spreadsheet shows it, cells) for each non-blank data row after the
        first ``start`` ones."""
        records = self._records()
        next(records, None)  # the header
        seen = 0
        for number, record in enumerate(records, start=2):
            cells = [_cell(value) for value in record]
            if not any(cells):
                continue
            seen += 1
            if seen > start:
                yield number, cells


@dataclass
class ColumnMap:
    """Which cell of a row holds which field, and the header the user wrote for it."""

    index: dict[str, int]
    headers: dict[str, str]
    ignored: list[str]

    @classmethod
    def build(cls, headers: list[str], custom_fields: list[CustomField]) -> ColumnMap:
        table = _header_table(custom_fields)
        index: dict[str, int] = {}
        names: dict[str, str] = {}
        ignored = []
        export_only = {column.key for column in EXPORT_ONLY_COLUMNS}
        for position, header in enumerate(headers):
            key = table.get(_header_key(header)) if header else None
            if key is None or key in export_only:
                if header:
                    ignored.append(header)
                continue
            if key not in index:
                index[key] = position
                names[key] = header
        if "name" not in index:
            raise ValidationError(
                _(
                    "The first row must hold the column headers, with a customer name column "
                    "(客户名称 or name)."
                ),
                code="no_name_column",
            )
        return cls(index=index, headers=names, ignored=ignored)

    def values(self, cells: list[str]) -> dict[str, str]:
        return {
            key: cells[position] if position < len(cells) else ""
            for key, position in self.index.items()
        }

    def header(self, key: str) -> str:
        if key in self.headers:
            return self.headers[key]
        for column in IMPORT_COLUMNS:
            if column.key == key:
                return str(column.label)
        return key.removeprefix("cf:")


# --- understanding one row ------------------------------------------------------------------------


class RowAction(models.TextChoices):
    CREATE = "create", gettext_lazy("Create")
    UPDATE = "update", gettext_lazy("Update")
    SKIP = "skip", gettext_lazy("Skip")
    ERROR = "error", gettext_lazy("Error")


@dataclass
class RowPlan:
    row: int
    name: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    contact: dict[str, str] | None = None
    tags: list[DemandTag] = field(default_factory=list)
    custom_data: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    missing_required: list[tuple[str, str]] = field(default_factory=list)
    action: str = RowAction.CREATE
    message: str = ""
    duplicate: Customer | None = None
    duplicate_row: int | None = None

    def problems(self) -> list[dict[str, Any]]:
        if self.action == RowAction.ERROR:
            return [{"row": self.row, "field": f, "message": m} for f, m in self.errors]
        if self.action == RowAction.SKIP:
            return [{"row": self.row, "field": "", "message": self.message}]
        return []


def _index_by(objects: Iterable[Any], *attributes: str) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for obj in objects:
        for attribute in attributes:
            value = getattr(obj, attribute, "")
            if value:
                table.setdefault(_key(value), obj)
    return table


class Lookups:
    """The dictionaries, owners and custom fields, loaded once per file."""

    def __init__(self, owners: Iterable[User]) -> None:
        self.categories = _index_by(
            CustomerCategory.objects.filter(is_active=True), "name", "name_en"
        )
        self.default_category = self.categories.get(_key(DEFAULT_CATEGORY)) or (
            CustomerCategory.objects.filter(is_active=True).first()
        )
        self.industries = _index_by(
            Industry.objects.filter(is_active=True), "code", "name", "name_en"
        )
        self.sources = _index_by(
            SourceChannel.objects.filter(is_active=True), "code", "name", "name_en"
        )
        self.regions = _index_by(Region.objects.all(), "code", "name", "name_en")
        self.provinces = _index_by(Province.objects.select_related("region"), "name", "name_en")
        self.tags = _index_by(DemandTag.objects.filter(is_active=True), "name", "name_en")
        self.types: dict[str, str] = {_key(k): v for k, v in TYPE_ALIASES.items()}
        for value, label in Customer.Type.choices:
            self.types[_key(value)] = value
            for text in _in_every_language(label):
                self.types[text] = value
        owners = list(owners)
        self.owners = _index_by(owners, "username")
        by_name: dict[str, list[User]] = defaultdict(list)
        for owner in owners:
            by_name[_key(owner.display_name)].append(owner)
        for name, matches in by_name.items():
            if len(matches) == 1:  # a display name is only good when it names one person
                self.owners.setdefault(name, matches[0])
        self.custom_fields = list(CustomField.objects.filter(is_active=True))

    def province(self, text: str) -> Province | None:
        found = self.provinces.get(_key(text))
        if found is None:
            for suffix in PROVINCE_SUFFIXES:
                if text.endswith(suffix) and len(text) > len(suffix):
                    return self.provinces.get(_key(text[: -len(suffix)]))
        return found


def _error(plan: RowPlan, columns: ColumnMap, key: str, message: str) -> None:
    plan.errors.append((columns.header(key), message))


def _dictionary(plan: RowPlan, columns: ColumnMap, key: str, text: str, table: dict) -> Any:
    if not text:
        return None
    found = table.get(_key(text))
    if found is None:
        _error(plan, columns, key, _("Unknown value “%(value)s”.") % {"value": text})
    return found


def _length(plan: RowPlan, columns: ColumnMap, key: str, value: str, limit: int) -> str:
    if len(value) > limit:
        _error(plan, columns, key, _("At most %(limit)d characters.") % {"limit": limit})
        return value[:limit]
    return value


def clean_row(row: int, raw: dict[str, str], columns: ColumnMap, lookups: Lookups) -> RowPlan:
    """Turns one row's text into model values, collecting every problem (not only the first)."""
    plan = RowPlan(row=row)
    plan.name = _length(plan, columns, "name", raw.get("name", ""), 200)
    if not plan.name:
        _error(plan, columns, "name", _("The customer name is required."))
    fields = plan.fields
    for key, table in (
        ("category", lookups.categories),
        ("industry", lookups.industries),
        ("source", lookups.sources),
        ("region", lookups.regions),
    ):
        value = _dictionary(plan, columns, key, raw.get(key, ""), table)
        if value is not None:
            fields[key] = value
    if raw.get("province"):
        province = lookups.province(raw["province"])
        if province is None:
            _error(
                plan,
                columns,
                "province",
                _("Unknown value “%(value)s”.") % {"value": raw["province"]},
            )
        elif "region" in fields and fields["region"].pk != province.region_id:
            _error(plan, columns, "province", _("This province is not in the chosen region."))
        else:
            fields["province"] = province
            fields.setdefault("region", province.region)
    for key, limit in (("city", 50), ("notes", 10_000)):
        if raw.get(key):
            fields[key] = _length(plan, columns, key, raw[key], limit)
    if raw.get("address"):
        fields["address"] = raw["address"]
    if raw.get("type"):
        kind = lookups.types.get(_key(raw["type"]))
        if kind is None:
            _error(plan, columns, "type", _("Unknown value “%(value)s”.") % {"value": raw["type"]})
        else:
            fields["type"] = kind
    if raw.get("owner"):
        owner = lookups.owners.get(_key(raw["owner"]))
        if owner is None:
            _error(
                plan,
                columns,
                "owner",
                _("No active user “%(value)s” to whom you may assign customers.")
                % {"value": raw["owner"]},
            )
        else:
            fields["owner"] = owner
    for text in TAG_SEPARATORS.split(raw.get("tags", "")):
        text = text.strip()
        if text:
            tag = _dictionary(plan, columns, "tags", text, lookups.tags)
            if tag is not None and tag not in plan.tags:
                plan.tags.append(tag)
    _clean_contact(plan, raw, columns)
    _clean_custom(plan, raw, columns, lookups)
    if plan.errors:
        plan.action = RowAction.ERROR
    return plan


def _clean_contact(plan: RowPlan, raw: dict[str, str], columns: ColumnMap) -> None:
    name = raw.get("contact_name", "")
    phone = raw.get("phone", "")
    email = raw.get("email", "")
    if not (name or phone or email):
        return
    if phone:
        try:
            validate_phone(phone)
        except ValidationError as error:
            for message in error.messages:
                _error(plan, columns, "phone", message)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            _error(plan, columns, "email", _("Enter a valid email address."))
    plan.contact = {
        "name": _length(plan, columns, "contact_name", name, 100) or _("Unknown contact"),
        "phone": phone,
        "email": email,
    }


def _clean_custom(plan: RowPlan, raw: dict[str, str], columns: ColumnMap, lookups: Lookups) -> None:
    for definition in lookups.custom_fields:
        key = f"cf:{definition.key}"
        text = raw.get(key, "")
        if not text:
            if definition.required:
                plan.missing_required.append(
                    (
                        columns.header(key) if key in columns.index else definition.display_label,
                        _("This field is required."),
                    )
                )
            continue
        form_field = custom_form_field(definition)
        form_field.required = False
        try:
            value = form_field.clean(text)
        except ValidationError as error:
            for message in error.messages:
                _error(plan, columns, key, message)
            continue
        plan.custom_data[definition.key] = to_json_value(value)


# --- writing files --------------------------------------------------------------------------------


_COLUMNS = {column.key: column for column in (*IMPORT_COLUMNS, *EXPORT_ONLY_COLUMNS)}
EXPORT_COLUMNS = tuple(
    _COLUMNS[key]
    for key in (
        "number",
        "name",
        "type",
        "status",
        "category",
        "industry",
        "source",
        "region",
        "province",
        "city",
        "address",
        "owner",
        "contact_name",
        "phone",
        "email",
        "tags",
        "created_at",
    )
)


def safe_cell(value: Any) -> Any:
    # A cell starting with = + - @ is a formula to Excel: a customer named "=HYPERLINK(…)" must
    # not run when the file is opened (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_headers(custom_fields: list[CustomField]) -> list[str]:
    headers = [str(column.label) for column in EXPORT_COLUMNS]
    headers.extend(definition.display_label for definition in custom_fields)
    return headers


def export_row(customer: Customer, custom_fields: list[CustomField], *, masked: bool) -> list[Any]:
    contact = customer.primary_contacts[0] if customer.primary_contacts else None  # type: ignore[attr-defined]
    phone = contact.phone if contact else ""
    values: dict[str, Any] = {
        "number": customer.number,
        "name": customer.name,
        "type": customer.get_type_display(),
        "status": customer.get_status_display(),
        "category": customer.category.label if customer.category_id else "",
        "industry": customer.industry.label if customer.industry else "",
        "source": customer.source.label if customer.source else "",
        "region": customer.region.label if customer.region else "",
        "province": str(customer.province) if customer.province else "",
        "city": customer.city,
        "address": mask_address(customer.address) if masked else customer.address,
        "owner": customer.owner.display_name if customer.owner else "",
        "contact_name": contact.name if contact else "",
        "phone": mask_phone(phone) if masked else phone,
        "email": contact.email if contact else "",
        "tags": "、".join(tag.label for tag in customer.tags.all()),
        "created_at": timezone.localtime(customer.created_at).strftime("%Y-%m-%d %H:%M"),
    }
    row = [values[column.key] for column in EXPORT_COLUMNS]
    row.extend(customer.custom_data.get(definition.key, "") for definition in custom_fields)
    return [safe_cell(value) for value in row]


def csv_bytes(headers: list[str], rows: Iterable[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    # The byte-order mark makes Excel read the file as UTF-8 and show Chinese correctly.
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(headers: list[str], rows: Iterable[list[Any]]) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(gettext_lazy("Customers"))[:31])
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
