import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template

from crm.core import crypto
from crm.core.phones import mask_address, mask_phone, normalize_phone, validate_phone


@pytest.mark.parametrize(
    "number",
    [
        "13812345678",
        "+86 138 1234 5678",
        "0086-13812345678",
        "010-12345678",
        "0755-1234567",
        "02112345678",
        "１３８１２３４５６７８",
        "010-12345678-123",
    ],
)
def test_valid_mobile_and_landline_numbers_pass(number):
    validate_phone(number)


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("1381234567", "invalid_mobile"),
        ("12812345678", "invalid_mobile"),
        ("138123456789", "invalid_mobile"),
        ("23456", "invalid_phone"),
        ("abc", "invalid_phone"),
        ("010-123", "invalid_phone"),
    ],
)
def test_bad_numbers_are_refused_with_a_clear_message(number, code):
    with pytest.raises(ValidationError) as error:
        validate_phone(number)
    assert error.value.code == code


def test_normalisation_drops_spaces_width_and_country_code():
    assert normalize_phone(" +86 １３８ 1234 5678 ") == "13812345678"


def test_phone_masking_keeps_the_first_three_and_last_four_digits():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_phone("010-12345678") == "010****5678"
    assert mask_phone("") == ""
    assert mask_address("浙江省杭州市西湖区文三路 90 号") == "浙江省杭州市****"


def test_masking_is_available_as_template_filters():
    html = Template("{% load crm %}{{ p|mask_phone }} {{ a|mask_address }} {{ m|cny }}").render(
        Context({"p": "13812345678", "a": "上海市浦东新区世纪大道", "m": 1234567})
    )
    assert html == "138****5678 上海市浦东新**** ¥123.5万"


def test_encryption_round_trips_and_hides_the_plain_text():
    token = crypto.encrypt("13812345678")
    assert "13812345678" not in token
    assert crypto.decrypt(token) == "13812345678"
    assert crypto.encrypt("13812345678") != token  # randomised: equal values do not match


def test_a_rotated_key_still_decrypts_old_values(settings):
    old = crypto.encrypt("上海市")
    settings.FIELD_ENCRYPTION_KEYS = [
        "bmV3LWtleS1uZXcta2V5LW5ldy1rZXktbmV3LWtleSE=",
        *settings.FIELD_ENCRYPTION_KEYS,
    ]
    assert crypto.decrypt(old) == "上海市"
    assert crypto.decrypt(crypto.encrypt("北京市")) == "北京市"


def test_a_value_under_an_unknown_key_fails_loudly(settings):
    token = crypto.encrypt("x")
    settings.FIELD_ENCRYPTION_KEYS = ["bmV3LWtleS1uZXcta2V5LW5ldy1rZXktbmV3LWtleSE="]
    with pytest.raises(ValueError, match="FIELD_ENCRYPTION_KEYS"):
        crypto.decrypt(token)


def test_blind_indexes_are_stable_and_purpose_bound():
    assert crypto.blind_index("13812345678", purpose="phone") == crypto.blind_index(
        "13812345678", purpose="phone"
    )
    assert crypto.blind_index("a", purpose="phone") != crypto.blind_index("a", purpose="email")
