"""Residents (实有人口): households placed in residential rooms, people with names, valid ID
numbers and phones, key-person tags, and messy addresses; written street by street to XLSX so
memory stays bounded by the largest street.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from geoplatform.demo import vocab
from geoplatform.demo.config import (
    ID_NUMBER_INVALID_SHARE,
    ID_NUMBER_LOWERCASE_X_SHARE,
    KEY_PERSON_SHARE,
    LABEL_NAMES,
    REFERENCE_DATE,
    XLSX_MAX_ROWS,
    AddressVariantShares,
)
from geoplatform.demo.delivery import delivery
from geoplatform.demo.presets import active
from geoplatform.demo.truth import TRUTH_PEOPLE_COLUMNS, RejectReason
from geoplatform.demo.variants import (
    VariantContext,
    assign_variants,
    render_addresses,
    resolvable_levels,
    variant_labels,
)
from geoplatform.demo.writers import CsvStream, XlsxStreamWriter
from geoplatform.identifiers import make_id_numbers

IntArray = npt.NDArray[np.int64]

HOUSEHOLD_SIZES = np.array([1, 2, 3, 4, 5, 6])
HOUSEHOLD_SIZE_SHARES = np.array([0.18, 0.30, 0.30, 0.14, 0.06, 0.02])
RESIDENT_HEADERS = (
    "序号",
    "人员编号",
    "姓名",
    "性别",
    "民族",
    "出生日期",
    "公民身份号码",
    "联系电话",
    "与户主关系",
    "户编号",
    "现住址",
    "人员类别",
    "登记日期",
)
RESIDENT_SHEET = "实有人口"
MOBILE_PREFIXES = np.array(
    [
        130,
        131,
        132,
        133,
        135,
        136,
        137,
        138,
        139,
        150,
        151,
        152,
        155,
        156,
        158,
        159,
        177,
        180,
        182,
        185,
        186,
        187,
        189,
        199,
    ]
)


@dataclass
class Households:
    """Households in rooms: building, unit, room number (0 for single-household houses)."""

    building: IntArray
    unit: IntArray
    room: IntArray
    size: IntArray

    def __len__(self) -> int:
        return int(self.building.shape[0])


def household_sizes(residents: int, rng: np.random.Generator) -> IntArray:
    """Sizes summing exactly to ``residents``."""
    estimate = int(residents / float((HOUSEHOLD_SIZES * HOUSEHOLD_SIZE_SHARES).sum()) * 1.05) + 10
    sizes = rng.choice(HOUSEHOLD_SIZES, estimate, p=HOUSEHOLD_SIZE_SHARES)
    cumulative = np.cumsum(sizes)
    count = int(np.searchsorted(cumulative, residents)) + 1
    sizes = sizes[:count].astype(np.int64)
    sizes[-1] -= int(cumulative[count - 1]) - residents
    return sizes[sizes > 0]


def place_households(
    capacity: IntArray,
    floors: IntArray,
    rooms_per_floor: IntArray,
    is_house: npt.NDArray[np.bool_],
    sizes: IntArray,
    rng: np.random.Generator,
) -> Households:
    """Each household gets a distinct room drawn uniformly from all residential rooms; the room
    index inside its building becomes a unit and a room number (floor·100 + door, e.g. 401)."""
    total = int(capacity.sum())
    if total < sizes.shape[0]:
        raise RuntimeError(f"{sizes.shape[0]} households do not fit in {total} rooms")
    rooms = np.sort(rng.choice(total, sizes.shape[0], replace=False))
    ends = np.cumsum(capacity)
    building = np.searchsorted(ends, rooms, side="right").astype(np.int64)
    local = rooms - (ends - capacity)[building]
    per_floor = np.maximum(rooms_per_floor[building], 1)
    per_unit = np.maximum(floors[building] * per_floor, 1)
    within = local % per_unit
    house = is_house[building]
    unit = np.where(house, 0, local // per_unit + 1)
    room = np.where(house, 0, (within // per_floor + 1) * 100 + within % per_floor + 1)
    return Households(
        building,
        unit.astype(np.int64),
        room.astype(np.int64),
        sizes[rng.permutation(sizes.shape[0])],
    )


@dataclass
class PeopleReport:
    """What the residents step wrote."""

    rows: int = 0
    key_persons: int = 0
    invalid_id_numbers: int = 0
    lowercase_x: int = 0
    variant_counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LABEL_NAMES, 0))
    level_counts: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def _names(
    rng: np.random.Generator,
    n: int,
    male: npt.NDArray[np.bool_],
    mongol: npt.NDArray[np.bool_],
    surname: npt.NDArray[np.object_],
) -> list[str]:
    male_pool = np.array(list(vocab.MALE_GIVEN), dtype=object)
    female_pool = np.array(list(vocab.FEMALE_GIVEN), dtype=object)
    first = np.where(
        male,
        male_pool[rng.integers(0, male_pool.size, n)],
        female_pool[rng.integers(0, female_pool.size, n)],
    )
    second = np.where(
        male,
        male_pool[rng.integers(0, male_pool.size, n)],
        female_pool[rng.integers(0, female_pool.size, n)],
    )
    two = rng.random(n) < 0.7
    given = np.where(two, first + second, first)
    mongol_name = np.where(
        male,
        np.array(vocab.MONGOLIAN_MALE, dtype=object)[rng.integers(0, len(vocab.MONGOLIAN_MALE), n)],
        np.array(vocab.MONGOLIAN_FEMALE, dtype=object)[
            rng.integers(0, len(vocab.MONGOLIAN_FEMALE), n)
        ],
    )
    names: list[str] = np.where(
        mongol & (rng.random(n) < 0.6), mongol_name, surname + given
    ).tolist()
    return names


def _phones(rng: np.random.Generator, n: int, age: IntArray) -> list[str]:
    mobile = MOBILE_PREFIXES[rng.integers(0, MOBILE_PREFIXES.size, n)].astype(
        np.int64
    ) * 100_000_000 + rng.integers(0, 100_000_000, n)
    area = active().phone_area + "-"
    landline = np.char.add(area, rng.integers(2_000_000, 8_000_000, n).astype(str))
    kind = rng.random(n)
    phones = np.where(kind < 0.93, mobile.astype(str), np.where(kind < 0.97, landline, ""))
    result: list[str] = np.where((age < 12) & (rng.random(n) < 0.9), "", phones).tolist()
    return result


def write_residents(
    out: Path,
    ctx: VariantContext,
    households: Households,
    shares: AddressVariantShares,
    rng: np.random.Generator,
    truth: CsvStream,
    progress: Callable[[int], None] | None = None,
) -> PeopleReport:
    """Write the rosters street by street (one XLSX per street, split past the row limit)."""
    book = ctx.book
    report = PeopleReport()
    folder = out / "residents"
    folder.mkdir(parents=True, exist_ok=True)
    street_of_household = book.street_code[households.building]
    reference = np.datetime64(REFERENCE_DATE)
    surnames = np.array([name for name, _ in vocab.SURNAMES], dtype=object)
    surname_p = np.array([weight for _, weight in vocab.SURNAMES])
    surname_p /= surname_p.sum()
    categories = np.array([name for name, _ in vocab.KEY_PERSON_CATEGORIES], dtype=object)
    category_p = np.array([weight for _, weight in vocab.KEY_PERSON_CATEGORIES])
    category_p /= category_p.sum()
    preset = active()
    ethnic = np.array([name for name, _ in preset.ethnicities], dtype=object)
    ethnic_p = np.array([share for _, share in preset.ethnicities])
    district_names = {spec.code6: spec.name for spec in preset.districts}
    street_names = dict(zip(book.street_code, book.street_name, strict=True))

    for street in sorted(set(street_of_household.tolist())):
        members = np.flatnonzero(street_of_household == street)
        size = households.size[members]
        n = int(size.sum())
        hh = np.repeat(members, size)
        position = np.arange(n) - np.repeat(np.cumsum(size) - size, size)
        building = households.building[hh]
        unit = households.unit[hh]
        room = households.room[hh]

        head_age = rng.integers(22, 82, members.shape[0])
        head_age = np.where(size == 1, rng.integers(18, 92, members.shape[0]), head_age)
        head_male = rng.random(members.shape[0]) < 0.62
        family_surname = surnames[rng.choice(surnames.size, members.shape[0], p=surname_p)]
        family_ethnic = ethnic[rng.choice(ethnic.size, members.shape[0], p=ethnic_p)]
        local = np.repeat(np.arange(members.shape[0]), size)
        roll = rng.random(n)
        relation = np.where(
            position == 0,
            "户主",
            np.where(
                position == 1,
                np.where(roll < 0.8, "配偶", "子女"),
                np.where(
                    roll < 0.75,
                    "子女",
                    np.where(roll < 0.9, "父母", np.where(roll < 0.97, "孙子女", "其他")),
                ),
            ),
        )
        base_age = head_age[local]
        age = np.select(
            [
                relation == "户主",
                relation == "配偶",
                relation == "子女",
                relation == "父母",
                relation == "孙子女",
            ],
            [
                base_age,
                base_age + rng.integers(-4, 5, n),
                base_age - rng.integers(22, 38, n),
                base_age + rng.integers(22, 32, n),
                base_age - rng.integers(45, 60, n),
            ],
            rng.integers(18, 80, n),
        )
        age = np.clip(age, 0, 99)
        male = np.where(
            relation == "户主",
            head_male[local],
            np.where(relation == "配偶", ~head_male[local], rng.random(n) < 0.5),
        )
        own_surname = surnames[rng.choice(surnames.size, n, p=surname_p)]
        surname = np.where(
            np.isin(relation, ["户主", "子女", "孙子女", "父母"]),
            family_surname[local],
            own_surname,
        )
        ethnicity = np.where(
            relation == "配偶", ethnic[rng.choice(ethnic.size, n, p=ethnic_p)], family_ethnic[local]
        )
        names = _names(rng, n, male, ethnicity == "蒙古族", surname)
        birth = (
            reference
            - (age * 365.25).astype("timedelta64[D]")
            - rng.integers(0, 365, n).astype("timedelta64[D]")
        )
        area = np.where(
            rng.random(n) < 0.8,
            int(street[:6]),
            np.array(preset.other_area_codes)[rng.integers(0, len(preset.other_area_codes), n)],
        )
        sequence = rng.integers(0, 500, n) * 2 + np.where(male, 1, 0)
        ids = make_id_numbers(area, birth, sequence).astype(object)
        reject = np.full(n, "", dtype=object)
        invalid = rng.choice(n, round(ID_NUMBER_INVALID_SHARE * n), replace=False)
        for row in invalid:
            valid_check = ids[row][17]
            wrong = "0123456789X".replace(valid_check, "")[int(rng.integers(0, 10))]
            ids[row] = ids[row][:17] + wrong
        reject[invalid] = RejectReason.INVALID_ID_NUMBER.value
        ends_x = np.flatnonzero(np.char.endswith(ids.astype(str), "X") & (reject == ""))
        lower = rng.choice(
            ends_x, min(ends_x.size, round(ID_NUMBER_LOWERCASE_X_SHARE * n)), replace=False
        )
        for row in lower:
            ids[row] = ids[row][:17] + "x"

        key_category = np.full(n, "", dtype=object)
        key_rows = rng.choice(n, round(KEY_PERSON_SHARE * n), replace=False)
        key_category[key_rows] = categories[
            rng.choice(categories.size, key_rows.size, p=category_p)
        ]
        children = np.isin(key_category, ["留守儿童", "困境儿童"])
        key_category[children & (age >= 16)] = "重点青少年"
        key_category[(key_category == "独居老人") & (age < 60)] = "特困供养人员"

        has_room = unit > 0
        flags = assign_variants(ctx, building, has_room, shares, rng)
        addresses = render_addresses(ctx, building, unit, room, flags, rng)
        levels = resolvable_levels(flags)
        # a member whose own text reaches only the compound or the gate, in a household where
        # another member's text reaches the building: the household lifts them
        reaches = np.zeros(members.shape[0], dtype=bool)
        np.logical_or.at(reaches, local, levels == "building")
        flags["household_partial"] = np.isin(levels, ["compound", "door"]) & reaches[local]
        labels = variant_labels(flags)
        expected = np.select(
            [levels == "building", levels == "compound", levels == "door", levels == "community"],
            [
                book.address_id[building],
                book.compound_address_id[building],
                book.compound_address_id[building],
                book.community_code[building],
            ],
            "",
        )
        person_key = [f"RK{street[:9]}{i:07d}" for i in range(1, n + 1)]
        household_key = [f"H{street[:9]}{i:06d}" for i in local + 1]
        registered = (
            np.datetime64("2016-01-01") + rng.integers(0, 3600, n).astype("timedelta64[D]")
        ).astype(str)
        sex = np.where(male, "男", "女")
        phones = _phones(rng, n, age)
        birth_text = birth.astype(str)

        file_stem = (
            delivery()
            .files["residents"]
            .format(district=district_names[street[:6]], street=street_names[street])
            .removeprefix("residents/")
            .removesuffix(".xlsx")
        )
        parts = max(1, -(-n // XLSX_MAX_ROWS))
        for part in range(parts):
            start, stop = part * XLSX_MAX_ROWS, min(n, (part + 1) * XLSX_MAX_ROWS)
            name = f"{file_stem}.xlsx" if parts == 1 else f"{file_stem}_{part + 1}.xlsx"
            path = folder / name
            headers = delivery().header_list("residents", RESIDENT_HEADERS)
            sheet_name = delivery().layers["residents"]
            with XlsxStreamWriter(path, sheet_name, headers) as sheet:
                for batch in range(start, stop, 20_000):
                    end = min(stop, batch + 20_000)
                    sheet.write_rows(
                        [
                            i + 1 - start,
                            person_key[i],
                            names[i],
                            sex[i],
                            ethnicity[i],
                            birth_text[i],
                            ids[i],
                            phones[i],
                            relation[i],
                            household_key[i],
                            addresses[i],
                            key_category[i],
                            registered[i],
                        ]
                        for i in range(batch, end)
                    )
            report.files.append(path)
            rows = slice(start, stop)
            truth.write(
                pd.DataFrame(
                    {
                        "file": f"residents/{name}",
                        "row": np.arange(1, stop - start + 1),
                        "person_key": person_key[rows],
                        "reject_reason": reject[rows],
                        "resolvable_level": levels[rows],
                        "variants": labels[rows],
                        "expected_address_id": expected[rows],
                        "building_id": book.building_id[building[rows]],
                        "community_code": book.community_code[building[rows]],
                        "grid_code": book.grid_code[building[rows]],
                        "lon": book.lon[building[rows]],
                        "lat": book.lat[building[rows]],
                        "household_key": household_key[rows],
                        "key_person_category": key_category[rows],
                    },
                    columns=list(TRUTH_PEOPLE_COLUMNS),
                )
            )
        report.rows += n
        report.key_persons += int((key_category != "").sum())
        report.invalid_id_numbers += int(invalid.size)
        report.lowercase_x += int(lower.size)
        for variant, mask in flags.items():
            report.variant_counts[variant] += int(mask.sum())
        for level in np.unique(levels):
            report.level_counts[str(level)] = report.level_counts.get(str(level), 0) + int(
                (levels == level).sum()
            )
        if progress is not None:
            progress(n)
    return report
