"""Text normalisation of Chinese addresses: the same function runs on the standard table and on
every messy input, so whatever it does, both sides agree.

Steps, in order (each fixes one kind of mess department rosters carry, see DOMAIN.md):
1. NFKC: full-width digits, letters and punctuation become ASCII (３号楼 → 3号楼).
2. Traditional → simplified (OpenCC's ``t2s`` tables: 號樓 → 号楼).
3. Upper-case ASCII letters, unify dashes ("3—2—401" → "3-2-401"); a separator between two
   numbers becomes a dash ("3/2/401", "3 2 401" → "3-2-401"), every other separator between
   elements is dropped ("海勃湾区-光明社区,银城华府" → "海勃湾区光明社区银城华府").
4. Long administrative forms to short ones: 社区居委会 → 社区, 街道办事处 → 街道, 村民委员会 → 村.
5. Chinese numerals written before a unit marker become digits (三号楼 → 3号楼, 十二单元 → 12单元,
   四零一室 → 401室, financial 壹拾贰号 → 12号, mixed 十2号 → 12号,
   第三栋 → 3栋). Numerals inside names (三道坎, 五虎山, 千里山, 二期) are left
   alone: only a numeral directly followed by 号/栋/单元/室/组/... counts.
6. Building suffixes unify to 栋 (3号楼, 3幢, 3座, 3栋楼, 3#楼, 3# → 3栋). 号院 and a bare 楼
   stay: whether they name a courtyard, a building or a floor depends on what follows them,
   which the parser decides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
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


#: Separators between elements: whitespace and punctuation that carry no address content.
_SEPARATORS = r"\s,.;:'\"`!?，。；：、！？“”‘’（）()\[\]【】《》<>{}|/\\_*·•"
_DROP = re.compile(f"[{_SEPARATORS}]+")
#: A run of separators (or dashes) between two numbers: the glue of 3/2/401 or 3 2 401.
_BETWEEN_NUMBERS = re.compile(rf"(?<=[0-9])[{_SEPARATORS}-]+(?=[0-9])")
#: A dash that is not between two numbers or letters separates elements (区-社区, 路-12号).
_LONE_DASH = re.compile(r"-+(?![0-9A-Z])|(?<![0-9A-Z])-+")
#: Dash-like separators of glued numbers (3-2-401), after NFKC.
_DASH = re.compile(r"[‐‑‒–—―−~～－]+")
# Character sets that let `normalise` skip a regular expression that cannot match.
_DASH_CHARS = frozenset("‐‑‒–—―−~～－")
_SEPARATOR_CHARS = frozenset(
    ",.;:'\"`!?，。；：、！？“”‘’（）()[]【】《》<>{}|/\\_*·•"
) | frozenset(c for c in map(chr, range(0x3001)) if c.isspace())
#: A bracketed remark (东门, 门卫旁, 原XX): dropped by `strip_remarks` when the address
#: reads better without it.
_REMARK = re.compile(r"[（(\[【][^（）()\[\]【】]*[）)\]】]")

_ADMIN_LONG_FORMS: tuple[tuple[str, str], ...] = (
    ("村村民委员会", "村"),  # 李家村村民委员会: the village's name already ends in 村
    ("村村委会", "村"),
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
    "壹": 1,
    "贰": 2,
    "叁": 3,
    "肆": 4,
    "伍": 5,
    "陆": 6,
    "柒": 7,
    "捌": 8,
    "玖": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "拾": 10, "佰": 100, "仟": 1000}
_NUMERAL_CHARS = "零〇○一二两三四五六七八九十百千壹贰叁肆伍陆柒捌玖拾佰仟"
#: What may follow a number in an address: door, building, unit, floor, room, group markers.
_MARKERS = "号楼|号院|号|栋|幢|座|#|单元|单|门|层|楼|室|户|组|村民小组"
#: A numeral (Chinese, financial, or mixed with digits: 十2) right before a marker.
_NUMERAL_BEFORE_MARKER = re.compile(
    rf"(?:第)?([0-9]*[{_NUMERAL_CHARS}][{_NUMERAL_CHARS}0-9]*)(?={_MARKERS})"
)
_NUMERAL_SET = frozenset(_NUMERAL_CHARS)
_BUILDING_MARKS = frozenset("栋幢座楼#")
_ORDINAL = re.compile(rf"第(?=[0-9]+(?:{_MARKERS}))")
#: A building number with any of its suffixes, including the "3#楼" and "3#" shorthand.
_BUILDING_SUFFIX = re.compile(
    r"(?<![0-9A-Z])([0-9]+|[A-Z]|[A-Z][0-9]+)(?:栋楼|幢楼|座楼|号栋|号幢|号楼|幢|座|栋|#楼|#)"
)


_CONVERT: Callable[[str], str] | None = None


def _converter() -> Callable[[str], str]:
    """OpenCC's bound ``convert``, looked up once (the per-call lookup is a fifth of its cost)."""
    global _CONVERT
    _CONVERT = _t2s().convert
    return _CONVERT


def chinese_to_int(numeral: str) -> int | None:
    """Value of a Chinese numeral: positional (一百五十四, 十二) or digit-wise (四零一, 二〇三).

    Returns None for strings that are not a well-formed numeral (so the caller keeps the text).
    """
    if not numeral:
        return None
    if not any(ch in _CN_UNITS for ch in numeral):
        digits = [int(ch) if ch.isdigit() else _CN_DIGITS.get(ch) for ch in numeral]
        if any(d is None for d in digits):
            return None
        return int("".join(str(d) for d in digits))
    total = 0
    current: int | None = None
    last_unit = 10_000
    for ch in numeral:
        if ch in _CN_DIGITS or ch.isdigit():
            if current is not None and current != 0:
                return None  # two digits in a row inside a positional numeral
            current = int(ch) if ch.isdigit() else _CN_DIGITS[ch]
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
        text = (_CONVERT or _converter())(text)
    text = text.upper()
    if not _DASH_CHARS.isdisjoint(text):
        text = _DASH.sub("-", text)
    if not _SEPARATOR_CHARS.isdisjoint(text):
        text = _DROP.sub("", _BETWEEN_NUMBERS.sub("-", text))
    if "-" in text:
        text = _LONE_DASH.sub("", text)
    return text


def strip_remarks(text: str) -> str:
    """``text`` without its bracketed remarks (人民路12号(东门) → 人民路12号)."""
    return _REMARK.sub("", text)


#: What makes a bracket's content an address element rather than a remark: a number with a
#: building, unit, room, door or group marker (（3号楼）, (2单元)); a floor alone (二楼) is not.
_ELEMENT_MARK = re.compile(r"[0-9]+(?:栋|单元|单|室|户|号|组|-[0-9])")


def drop_remarks(text: str) -> str:
    """``text`` without the bracketed parts that name no address element (二楼, 东门, 租户,
    旁边是超市); brackets holding a building, unit or room number stay."""

    def keep(match: re.Match[str]) -> str:
        return match.group(0) if _ELEMENT_MARK.search(normalise(match.group(0))) else ""

    return _REMARK.sub(keep, text)


def has_remark(text: str) -> bool:
    """True when ``text`` holds a bracketed part (a remark or a name in brackets)."""
    return _REMARK.search(text) is not None


def normalise(text: str) -> str:
    """The matcher's normal form of an address (what the ``normalized`` column stores)."""
    text = clean_text(text)
    if "委" in text or "办" in text or "政府" in text:
        text = _ADMIN_LONG.sub(_admin_short, text)
    if "组" in text:
        text = text.replace("村民小组", "组").replace("村小组", "组")
    if not _NUMERAL_SET.isdisjoint(text):
        text = _NUMERAL_BEFORE_MARKER.sub(_numeral_to_digits, text)
    if "第" in text:
        text = _ORDINAL.sub("", text)
    if not _BUILDING_MARKS.isdisjoint(text):
        text = _BUILDING_SUFFIX.sub(r"\1栋", text)
    return text


def normalise_name(text: str) -> str:
    """Normal form of a bare name (road, compound, community): cleaned, numerals kept as written.

    Names are compared whole, so only the character-level steps apply; 二期 stays 二期.
    """
    return _ADMIN_LONG.sub(_admin_short, clean_text(text))
