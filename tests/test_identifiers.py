"""GB 11643 resident ID numbers and GB 32100 unified social credit codes."""

from __future__ import annotations

import numpy as np
import pytest

from geoplatform.identifiers import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_character,
    id_number_check_character,
    is_valid_credit_code,
    is_valid_id_number,
    make_credit_codes,
    make_id_numbers,
    normalise_credit_code,
    normalise_id_number,
    organisation_code_check_character,
)


@pytest.mark.parametrize(
    "id_number",
    ["11010519491231002X", "440524188001010014", "150302199001011231"],
)
def test_published_id_numbers_are_valid(id_number: str) -> None:
    if id_number == "150302199001011231":  # our own: recompute its check rather than trust it
        id_number = id_number[:17] + id_number_check_character(id_number[:17])
    assert is_valid_id_number(id_number)


def test_id_number_rejects_wrong_check_bad_date_and_lowercase_x() -> None:
    assert not is_valid_id_number("110105194912310021")
    assert not is_valid_id_number("11010519491231002x")
    assert is_valid_id_number(normalise_id_number(" 11010519491231002x "))
    assert is_valid_id_number(normalise_id_number("１１０１０５１９４９１２３１００２Ｘ"))
    bad_date = "15030219900230123"
    assert not is_valid_id_number(bad_date + id_number_check_character(bad_date))
    assert not is_valid_id_number("1101051949123100")
    with pytest.raises(ValueError, match="17 ASCII digits"):
        id_number_check_character("12345")


def test_every_single_digit_change_is_detected() -> None:
    valid = "11010519491231002X"
    for position in range(17):
        for digit in "0123456789":
            if digit == valid[position]:
                continue
            changed = valid[:position] + digit + valid[position + 1 :]
            if is_valid_id_number(changed[:17] + id_number_check_character(changed[:17])):
                assert not is_valid_id_number(changed)


def test_make_id_numbers_vectorised_matches_scalar_rule() -> None:
    rng = np.random.default_rng(7)
    size = 2000
    areas = rng.choice([150302, 150303, 150304, 152701], size)
    births = np.datetime64("1940-01-01") + rng.integers(0, 30000, size).astype("timedelta64[D]")
    sequence = rng.integers(0, 1000, size)
    numbers = make_id_numbers(areas, births, sequence)
    assert all(is_valid_id_number(str(number)) for number in numbers)
    assert str(numbers[0])[:6] == str(areas[0])
    assert str(numbers[0])[6:14] == str(births[0]).replace("-", "")
    assert {str(number)[-1] for number in numbers} >= {"X", "0", "5"}


def test_published_credit_code_is_valid() -> None:
    assert is_valid_credit_code("91350100M000100Y43")
    assert credit_code_check_character("91350100M000100Y4") == "3"
    assert not is_valid_credit_code("91350100M000100Y44")


def test_credit_codes_starting_with_a_letter_are_valid() -> None:
    for prefix in ("N2", "Y1", "A1", "91", "92", "51"):
        (code,) = make_credit_codes([prefix], [150302], [12345678])
        assert code.startswith(prefix)
        assert is_valid_credit_code(code), code


def test_credit_code_rejects_forbidden_characters_and_length() -> None:
    (code,) = make_credit_codes(["91"], [150303], [87654321])
    for forbidden in "IOZSV":
        assert not is_valid_credit_code(code[:5] + forbidden + code[6:])
    assert not is_valid_credit_code(code[:17])
    assert not is_valid_credit_code("91350100M000100Y43".lower())
    assert is_valid_credit_code(normalise_credit_code(" 91350100m000100y43"))
    for position in range(17):
        replacement = next(c for c in CREDIT_CODE_ALPHABET if c != code[position])
        assert not is_valid_credit_code(code[:position] + replacement + code[position + 1 :])


def test_organisation_code_check_character() -> None:
    # the organisation code inside the published credit code 91350100M000100Y43
    assert organisation_code_check_character("M000100Y") == "4"
    (code,) = make_credit_codes(["91"], [150304], [1])
    assert code[8:16] == "00000001"
