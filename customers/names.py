"""Customer names: normalisation for duplicate checks and pinyin for search."""

import re
import unicodedata

from pypinyin import Style, lazy_pinyin

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
PUNCTUATION = re.compile(r"[\s\-_.,，。·()（）\[\]【】&'\"“”]+")


def normalize_name(name: str) -> str:
    """The form two names are compared in: full-width folded, case and spaces ignored, and the
    legal-form suffix (有限公司, 股份有限公司, Ltd …) removed. 华为科技有限公司 == 华为科技 ."""
    value = unicodedata.normalize("NFKC", name).casefold().strip()
    changed = True
    while changed:
        changed = False
        for suffix in COMPANY_SUFFIXES:
            stripped = value.rstrip(" ,.")
            if stripped.endswith(suffix) and len(stripped) > len(suffix):
                value = stripped[: -len(suffix)]
                changed = True
                break
    return PUNCTUATION.sub("", value)


def pinyin_forms(name: str) -> tuple[str, str]:
    """Full pinyin and initials of a name: 华为科技 → ("huaweikeji", "hwkj")."""
    value = unicodedata.normalize("NFKC", name)
    syllables = [s for s in lazy_pinyin(value, errors="default") if s.strip()]
    initials = lazy_pinyin(value, style=Style.FIRST_LETTER, errors="default")
    full = "".join(syllables).casefold()
    short = "".join(s[:1] for s in initials if s.strip()).casefold()
    return PUNCTUATION.sub("", full)[:300], PUNCTUATION.sub("", short)[:100]
