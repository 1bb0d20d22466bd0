"""Customer names: normalisation for duplicate checks and pinyin for search."""

import re
import unicodedata
from functools import lru_cache
from itertools import chain

from pypinyin import Style
from pypinyin.converter import DefaultConverter
from pypinyin.seg.simpleseg import seg

# Legal-form suffixes that do not distinguish one company from another, longest first.
COMPANY_SUFFIXES = sorted(
    [
        "股份有限公司",
        "有限责任公司",
        "集团有限公司",
        "有限公司",
        "集团公司",
        "分公司",
        "公司",
        "集团",
        "co.,ltd.",
        "co., ltd.",
        "co.ltd",
        "co., ltd",
        "corporation",
        "limited",
        "company",
        "corp.",
        "corp",
        "inc.",
        "inc",
        "ltd.",
        "ltd",
        "llc",
    ],
    key=len,
    reverse=True,
)
_SUFFIX_ENDINGS = tuple(COMPANY_SUFFIXES)
PUNCTUATION = re.compile(r"[\s\-_.,，。·()（）\[\]【】&'\"“”]+")


def normalize_name(name: str) -> str:
    """The form two names are compared in: full-width folded, case and spaces ignored, and the
    legal-form suffix (有限公司, 股份有限公司, Ltd …) removed. 华为科技有限公司 == 华为科技 ."""
    value = unicodedata.normalize("NFKC", name).casefold().strip()
    changed = True
    while changed:
        changed = False
        stripped = value.rstrip(" ,.")
        if not stripped.endswith(_SUFFIX_ENDINGS):
            break
        for suffix in COMPANY_SUFFIXES:
            if stripped.endswith(suffix) and len(stripped) > len(suffix):
                value = stripped[: -len(suffix)]
                changed = True
                break
    return PUNCTUATION.sub("", value)


_CONVERTER = DefaultConverter()


@lru_cache(maxsize=20_000)
def _word_pinyin(word: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What ``lazy_pinyin`` gives one word of its segmentation, in both styles. Company names
    share most of their words (有限公司, cities, trades), so an import converts each once:
    converting is most of pypinyin's cost (~0.5 ms a name for the two styles)."""
    return (
        tuple(chain(*_CONVERTER.convert(word, Style.NORMAL, False, "default", strict=True))),
        tuple(chain(*_CONVERTER.convert(word, Style.FIRST_LETTER, False, "default", strict=True))),
    )


def pinyin_forms(name: str) -> tuple[str, str]:
    """Full pinyin and initials of a name: 华为科技 → ("huaweikeji", "hwkj"). The same as
    ``lazy_pinyin(name)`` and ``lazy_pinyin(name, style=Style.FIRST_LETTER)``, which segment the
    name this way and convert word by word, with the words' conversions remembered."""
    value = unicodedata.normalize("NFKC", name)
    syllables: list[str] = []
    initials: list[str] = []
    for word in seg(value):
        normal, first = _word_pinyin(word)
        syllables.extend(normal)
        initials.extend(first)
    full = "".join(s for s in syllables if s.strip()).casefold()
    short = "".join(s[:1] for s in initials if s.strip()).casefold()
    return PUNCTUATION.sub("", full)[:300], PUNCTUATION.sub("", short)[:100]
