"""Chinese national identifiers: resident ID numbers (GB 11643) and unified social credit codes
(GB 32100).

Pure functions with no imports from the rest of the package: the ETL validates with them and the
demo generator makes valid (and deliberately invalid) ones with them. The check-character rules
follow DOMAIN.md; credit codes that begin with a letter (N, Y, A…) are valid, unlike in
python-stdnum.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "credit_code_check_character",
    "id_number_check_character",
    "is_valid_credit_code",
    "is_valid_id_number",
    "make_credit_codes",
    "make_id_numbers",
    "normalise_credit_code",
    "normalise_id_number",
    "organisation_code_check_character",
]

ID_NUMBER_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_NUMBER_CHECK_CHARACTERS = "10X98765432"

#: The 31 characters of GB 32100: digits and upper-case letters without I, O, Z, S, V.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_CREDIT_VALUE = {character: value for value, character in enumerate(CREDIT_CODE_ALPHABET)}

#: GB 11714 organisation code (the 9 characters inside a credit code) weights.
ORGANISATION_CODE_WEIGHTS: tuple[int, ...] = (3, 7, 9, 10, 5, 8, 4, 2)


# --- resident ID numbers (GB 11643) -------------------------------------------------------------


def normalise_id_number(text: str) -> str:
    """Strip spaces, fold full-width characters (NFKC) and upper-case a trailing x."""
    return unicodedata.normalize("NFKC", text).strip().replace(" ", "").upper()


def id_number_check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"expected 17 ASCII digits, got {first17!r}")
    total = sum(
        int(digit) * weight for digit, weight in zip(first17, ID_NUMBER_WEIGHTS, strict=True)
    )
    return ID_NUMBER_CHECK_CHARACTERS[total % 11]


def is_valid_id_number(text: str) -> bool:
    """True for an 18-character ID number with a real birth date and a correct check character.

    Exact: a lower-case ``x`` is not accepted here; call :func:`normalise_id_number` first if the
    caller chooses to forgive it.
    """
    if len(text) != 18 or not text.isascii() or not text[:17].isdigit():
        return False
    if not (text[17].isdigit() or text[17] == "X"):
        return False
    year, month, day = int(text[6:10]), int(text[10:12]), int(text[12:14])
    if not (1800 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
        return False
    return id_number_check_character(text[:17]) == text[17]


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def make_id_numbers(
    area_codes: npt.ArrayLike,
    birth_dates: npt.ArrayLike,
    sequence: npt.ArrayLike,
) -> npt.NDArray[np.str_]:
    """Valid ID numbers, vectorised.

    ``area_codes`` are 6-digit integers, ``birth_dates`` datetime64 values, ``sequence`` 3-digit
    integers (odd for men, even for women: the caller decides).
    """
    area = np.asarray(area_codes, dtype=np.int64)
    dates = np.asarray(birth_dates, dtype="datetime64[D]")
    seq = np.asarray(sequence, dtype=np.int64)
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    months = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    first17 = ((area * 10_000 + years) * 100 + months) * 100 + days
    first17 = first17 * 1000 + seq
    total = np.zeros(first17.shape, dtype=np.int64)
    for position, weight in enumerate(ID_NUMBER_WEIGHTS):
        total += (first17 // 10 ** (16 - position)) % 10 * weight
    checks = np.array(list(ID_NUMBER_CHECK_CHARACTERS))[total % 11]
    body = np.char.zfill(first17.astype(str), 17)
    return np.char.add(body, checks)


# --- unified social credit codes (GB 32100) -----------------------------------------------------


def normalise_credit_code(text: str) -> str:
    """Strip spaces, fold full-width characters (NFKC) and upper-case."""
    return unicodedata.normalize("NFKC", text).strip().replace(" ", "").upper()


def credit_code_check_character(first17: str) -> str:
    """GB 32100 check character: alphabet[(31 - Σ value·3^i mod 31) mod 31]."""
    if len(first17) != 17 or any(character not in _CREDIT_VALUE for character in first17):
        raise ValueError(f"expected 17 characters of the credit-code alphabet, got {first17!r}")
    total = sum(
        _CREDIT_VALUE[character] * weight
        for character, weight in zip(first17, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def is_valid_credit_code(text: str) -> bool:
    """True for an 18-character code over the GB 32100 alphabet with a correct check character.

    Codes that begin with a letter (N for agriculture, Y for others, A for the military) are valid.
    """
    if len(text) != 18 or any(character not in _CREDIT_VALUE for character in text):
        return False
    return credit_code_check_character(text[:17]) == text[17]


def organisation_code_check_character(first8: str) -> str:
    """GB 11714 check character of the 9-character organisation code embedded in a credit code."""
    if len(first8) != 8 or any(character not in _BASE36 for character in first8):
        raise ValueError(f"expected 8 code characters, got {first8!r}")
    total = sum(
        int(character, 36) * weight  # GB 11714 values letters A..Z as 10..35
        for character, weight in zip(first8, ORGANISATION_CODE_WEIGHTS, strict=True)
    )
    remainder = 11 - total % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def make_credit_codes(
    prefixes: Sequence[str],
    area_codes: Sequence[int],
    organisation_serials: Sequence[int],
) -> list[str]:
    """Valid credit codes from a 2-character prefix (registration department + type, e.g. "91",
    "92", "N2", "Y1"), a 6-digit area code and an 8-digit organisation serial."""
    codes: list[str] = []
    for prefix, area, serial in zip(prefixes, area_codes, organisation_serials, strict=True):
        body = f"{serial:08d}"
        organisation_code = body + organisation_code_check_character(body)
        first17 = f"{prefix}{area:06d}{organisation_code}"
        codes.append(first17 + credit_code_check_character(first17))
    return codes
