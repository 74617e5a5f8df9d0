"""Numerals as addresses write them: Chinese (十二, 一百五十四), digit by digit for rooms (四零一,
四〇一), financial (壹贰叁), and mixed forms that end in an Arabic digit (十2, 二百九十8)."""

from __future__ import annotations

from typing import Any

from geoplatform.demo import vocab

FINANCIAL = "零壹贰叁肆伍陆柒捌玖"


def chinese_number(value: int) -> str:
    """Integer → Chinese numerals as written in addresses (12 → 十二, 154 → 一百五十四)."""
    digits = vocab.CHINESE_DIGITS
    if value < 10:
        return digits[value]
    if value < 20:
        return "十" + (digits[value % 10] if value % 10 else "")
    if value < 100:
        return digits[value // 10] + "十" + (digits[value % 10] if value % 10 else "")
    if value < 1000:
        rest = value % 100
        tail = (
            ""
            if rest == 0
            else (
                "零" + digits[rest]
                if rest < 10
                else chinese_number(rest)
                if rest >= 20
                else "一" + chinese_number(rest)
            )
        )
        return digits[value // 100] + "百" + tail
    return chinese_digits(value)


def chinese_digits(value: int, circle: bool = False) -> str:
    """Digit by digit, as room numbers are read (401 → 四零一, or 四〇一)."""
    digits = "〇" + vocab.CHINESE_DIGITS[1:] if circle else vocab.CHINESE_DIGITS
    return "".join(digits[int(d)] for d in str(value))


def mixable(value: Any) -> Any:
    """Numbers whose Chinese form can end in an Arabic digit (十2, 二百九十8): 11–999 not ending
    in 0 (works on ints and arrays)."""
    return (value >= 11) & (value % 10 != 0)


def financial(value: int) -> str:
    """Financial numerals as some write them (12 → 拾贰, 3 → 叁)."""
    text = chinese_number(value)
    table = str.maketrans(vocab.CHINESE_DIGITS + "十百", FINANCIAL + "拾佰")
    return text.translate(table)
