"""Chinese phone numbers: validation, normalisation, masking and the lookup columns."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.core.crypto import blind_index

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
# Area code 0 + 2-3 digits, then 7-8 digits, optionally an extension.
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def normalize_phone(value: str) -> str:
    """Digits only, without the +86 / 0086 country prefix; keeps a landline's area code."""
    value = value.strip().replace(" ", "").replace("\u3000", "")
    value = value.translate(str.maketrans("０１２３４５６７８９－＋", "0123456789-+"))
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :].lstrip("-")
    return value


def validate_phone(value: str) -> None:
    """Mainland mobiles (11 digits, 1[3-9]…) or landlines with their area code."""
    number = normalize_phone(value)
    if MOBILE_RE.match(number) or LANDLINE_RE.match(number):
        return
    if number.isdigit() and number.startswith("1"):
        raise ValidationError(
            _("Enter a valid mobile number: 11 digits starting with 13–19, e.g. 13812345678."),
            code="invalid_mobile",
        )
    raise ValidationError(
        _(
            "Enter a valid phone number: a mobile such as 13812345678 or a landline with its "
            "area code such as 010-12345678."
        ),
        code="invalid_phone",
    )


def digits(value: str) -> str:
    return "".join(ch for ch in normalize_phone(value) if ch.isdigit())


def mask_phone(value: str | None) -> str:
    """138****5678: the first three and last four digits stay, the middle is hidden."""
    if not value:
        return ""
    number = digits(value)
    if len(number) <= 7:
        return "*" * max(len(number) - 2, 0) + number[-2:]
    return number[:3] + "****" + number[-4:]


def phone_index(value: str) -> str:
    """The blind index that finds a record by its full phone number."""
    return blind_index(digits(value), purpose="phone")


def phone_last4(value: str) -> str:
    return digits(value)[-4:]


def mask_address(value: str | None) -> str:
    """Keeps the first six characters (province and city), hides the street."""
    if not value:
        return ""
    return value[:6] + "****"
