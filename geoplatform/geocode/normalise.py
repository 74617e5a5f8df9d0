"""Text normalisation of Chinese addresses: the same function runs on the standard table and on
every messy input, so whatever it does, both sides agree.

Steps, in order (each fixes one kind of mess department rosters carry, see DOMAIN.md):
1. NFKC: full-width digits, letters and punctuation become ASCII (３号楼 → 3号楼).
2. Traditional → simplified (OpenCC's ``t2s`` tables: 號樓 → 号楼).
3. Upper-case ASCII letters, drop whitespace and punctuation, unify dashes ("3—2—401" → "3-2-401").
4. Long administrative forms to short ones: 社区居委会 → 社区, 街道办事处 → 街道, 村民委员会 → 村.
5. Chinese numerals written before a unit marker become digits (三号楼 → 3号楼, 十二单元 → 12单元,
   四零一室 → 401室). Numerals inside names (三道坎, 五虎山, 千里山, 二期) are left alone: only a
   numeral directly followed by 号/栋/单元/室/... counts.
6. Building suffixes unify to 栋 (3号楼, 3幢, 3座, 3#楼 → 3栋).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Protocol


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


@lru_cache(maxsize=1)
def _t2s() -> _Converter:
    """OpenCC's traditional→simplified converter (C++; ~2 µs per address), built once."""
    import opencc

    converter: _Converter = opencc.OpenCC("t2s")
    return converter


#: Characters dropped outright: whitespace and punctuation that carry no address content.
_DROP = re.compile(r"[\s,.;:'\"`!?，。；：、！？“”‘’（）()\[\]【】《》<>{}|/\\_*·•]+")
#: Dash-like separators of glued numbers (3-2-401), after NFKC.
_DASH = re.compile(r"[‐‑‒–—―−~～－]+")

_ADMIN_LONG_FORMS: tuple[tuple[str, str], ...] = (
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("居民委员会", "社区"),
    ("居委会", "社区"),
    ("村民委员会", "村"),
    ("村委会", "村"),
    ("街道办事处", "街道"),
    ("街道办", "街道"),
    ("办事处", "街道"),
    ("镇人民政府", "镇"),
)
_ADMIN_LONG = re.compile("|".join(re.escape(long) for long, _ in _ADMIN_LONG_FORMS))
_ADMIN_SHORT = dict(_ADMIN_LONG_FORMS)

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL_CHARS = "零〇○一二两三四五六七八九十百千"
#: What may follow a number in an address: door, building, unit, floor, room markers.
_MARKERS = "号楼|号院|号|栋|幢|座|#|单元|单|门|层|楼|室|户"
_NUMERAL_BEFORE_MARKER = re.compile(rf"(?:第)?([{_NUMERAL_CHARS}]+)(?={_MARKERS})")
#: A building number with any of its suffixes, including the "3#楼" and "3#" shorthand.
_BUILDING_SUFFIX = re.compile(r"(?<![0-9A-Z])([0-9]+|[A-Z])(?:号楼|幢|座|栋|#楼|#)")


def chinese_to_int(numeral: str) -> int | None:
    """Value of a Chinese numeral: positional (一百五十四, 十二) or digit-wise (四零一, 二〇三).

    Returns None for strings that are not a well-formed numeral (so the caller keeps the text).
    """
    if not numeral:
        return None
    if not any(ch in _CN_UNITS for ch in numeral):
        digits = [_CN_DIGITS.get(ch) for ch in numeral]
        if any(d is None for d in digits):
            return None
        return int("".join(str(d) for d in digits))
    total = 0
    current: int | None = None
    last_unit = 10_000
    for ch in numeral:
        if ch in _CN_DIGITS:
            if current is not None and current != 0:
                return None  # two digits in a row inside a positional numeral
            current = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            if unit >= last_unit:
                return None
            total += (1 if current is None else current) * unit
            current = None
            last_unit = unit
        else:
            return None
    return total + (current or 0)


def _numeral_to_digits(match: re.Match[str]) -> str:
    value = chinese_to_int(match.group(1))
    return match.group(0) if value is None else str(value)


def _admin_short(match: re.Match[str]) -> str:
    return _ADMIN_SHORT[match.group(0)]


def clean_text(text: str) -> str:
    """Steps 1-3: NFKC, simplified characters, upper-case ASCII, no spaces or punctuation."""
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():
        text = _t2s().convert(text)
    text = _DASH.sub("-", text.upper())
    return _DROP.sub("", text)


def normalise(text: str) -> str:
    """The matcher's normal form of an address (what the ``normalized`` column stores)."""
    text = clean_text(text)
    if "委" in text or "办" in text or "政府" in text:
        text = _ADMIN_LONG.sub(_admin_short, text)
    text = _NUMERAL_BEFORE_MARKER.sub(_numeral_to_digits, text)
    return _BUILDING_SUFFIX.sub(r"\1栋", text)


def normalise_name(text: str) -> str:
    """Normal form of a bare name (road, compound, community): cleaned, numerals kept as written.

    Names are compared whole, so only the character-level steps apply; 二期 stays 二期.
    """
    return _ADMIN_LONG.sub(_admin_short, clean_text(text))
