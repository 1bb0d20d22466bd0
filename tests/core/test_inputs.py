import pytest

from crm.core.inputs import as_pk


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("12", 12),
        (" 7 ", 7),
        (42, 42),
        ("9" * 18, int("9" * 18)),
        ("9" * 19, None),  # may not fit a 64-bit key
        ("0" * 4301, None),  # int() refuses it outright
        ("²", None),  # str.isdigit() says yes, int() no
        ("１２", None),  # full-width digits
        ("-1", None),
        ("1e3", None),
        ("", None),
        (None, None),
    ],
)
def test_as_pk_reads_only_what_a_key_can_be(value, key):
    assert as_pk(value) == key
