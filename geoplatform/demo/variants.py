"""Messy addresses written the way people write them, with the variant(s) and the level each row
stays resolvable to.

Assignment is exact: for each variant (in :data:`~geoplatform.demo.config.VARIANT_NAMES` order)
``round(share · rows)`` rows are drawn among the rows that qualify, so realised shares match the
settings to within rounding whenever enough rows qualify.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from geoplatform.demo import vocab
from geoplatform.demo.addresses import (
    COMPOUND_SUFFIXES,
    ROAD_SUFFIXES,
    AddressBook,
    TypoIndex,
)
from geoplatform.demo.admin import AdminLayout
from geoplatform.demo.config import VARIANT_NAMES, AddressVariantShares
from geoplatform.demo.roads import RoadNetwork
from geoplatform.demo.stock import BuildingStock

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

BUILDING_SUFFIXES = ("栋", "幢", "座", "#楼", "#")
FULLWIDTH = str.maketrans(
    {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F) if chr(c).isalnum() or chr(c) in "-#"}
)
TRADITIONAL = str.maketrans(vocab.TRADITIONAL)


@dataclass
class VariantContext:
    """What rendering needs beyond one building's components: aliases, typos, other names."""

    book: AddressBook
    compound_short: list[str]
    compound_alias: list[str]
    compound_typos: list[list[str]]
    road_names: list[str]
    road_old: list[str]
    road_typos: list[list[str]]
    community_names_by_street: dict[str, list[str]]
    fake_compounds_by_district: dict[str, list[str]]
    urban_roads_by_district: dict[str, list[int]]
    max_number: dict[tuple[int, int], int]


def build_context(
    layout: AdminLayout, roads: RoadNetwork, stock: BuildingStock, book: AddressBook
) -> VariantContext:
    """Typos that stay resolvable, look-alike names that do not exist, and the other lookups."""
    compounds = stock.compounds
    known_compound = set(compounds.name) | {s for s in compounds.short_name if s}
    known_compound |= {name.removesuffix("小区") for name in compounds.name}
    compound_index = TypoIndex(known_compound)
    compound_typos = [compound_index.resolvable_typos(n, COMPOUND_SUFFIXES) for n in compounds.name]
    known_road = set(roads.names) | {o for o in roads.old_names if o}
    road_index = TypoIndex(known_road)
    road_typos = [road_index.resolvable_typos(n, ROAD_SUFFIXES) for n in roads.names]
    community_by_street: dict[str, list[str]] = {}
    communities = layout.areas[layout.areas["level"] == "community"].sort_values("code")
    for street, name in zip(communities["parent_code"], communities["name"], strict=True):
        community_by_street.setdefault(str(street), []).append(str(name))
    district_of_compound: dict[int, str] = {}
    for compound, district in zip(book.compound, book.district_name, strict=True):
        if compound >= 0:
            district_of_compound[int(compound)] = str(district)
    fakes: dict[str, list[str]] = {}
    for district in sorted(set(book.district_name)):
        names: list[str] = []
        for compound, name in enumerate(compounds.name):
            if district_of_compound.get(compound, district) != district:
                names.extend(compound_index.lookalikes(name, COMPOUND_SUFFIXES)[:1])
        fakes[str(district)] = names
    urban: dict[str, list[int]] = {}
    district_names = {spec.code6: spec.name for spec in vocab.DISTRICTS}
    for index, kind in enumerate(roads.kinds):
        if kind == "urban":
            urban.setdefault(district_names[roads.district_code6[index]], []).append(index)
    return VariantContext(
        book=book,
        compound_short=compounds.short_name,
        compound_alias=compounds.documented_alias,
        compound_typos=compound_typos,
        road_names=roads.names,
        road_old=roads.old_names,
        road_typos=road_typos,
        community_names_by_street=community_by_street,
        fake_compounds_by_district=fakes,
        urban_roads_by_district=urban,
        max_number=stock.max_number,
    )


def _pick(rng: np.random.Generator, eligible: BoolArray, share: float) -> BoolArray:
    chosen = np.zeros(eligible.shape[0], dtype=bool)
    wanted = round(share * eligible.shape[0])
    candidates = np.flatnonzero(eligible)
    if wanted > 0 and candidates.size:
        chosen[rng.choice(candidates, min(wanted, candidates.size), replace=False)] = True
    return chosen


def assign_variants(
    ctx: VariantContext,
    building: IntArray,
    has_room: BoolArray,
    shares: AddressVariantShares,
    rng: np.random.Generator,
) -> dict[str, BoolArray]:
    """Which rows carry which variant (boolean mask per variant name)."""
    book = ctx.book
    kind = book.kind[building]
    compound_row = kind == "compound"
    standalone_row = (kind == "standalone") & has_room
    compound = book.compound[building]
    road = book.road[building]
    has_short = np.array(
        [
            bool(ctx.compound_short[c] or ctx.compound_alias[c]) if c >= 0 else False
            for c in compound
        ]
    )
    has_compound_typo = np.array(
        [bool(ctx.compound_typos[c]) if c >= 0 else False for c in compound]
    )
    has_old_road = np.array([bool(ctx.road_old[r]) for r in road])
    has_road_typo = np.array([bool(ctx.road_typos[r]) for r in road])
    flags: dict[str, BoolArray] = {}
    n = building.shape[0]
    none = np.zeros(n, dtype=bool)

    def get(name: str) -> BoolArray:
        return flags.get(name, none)

    for name in VARIANT_NAMES:
        share = float(getattr(shares, name))
        structural = get("nonexistent") | get("community_only")
        if name == "nonexistent":
            eligible = ~none
        elif name == "community_only":
            eligible = ~get("nonexistent")
        elif name in ("door_only", "missing_building"):
            eligible = compound_row & ~structural & ~get("door_only")
        elif name == "missing_compound":
            eligible = compound_row & ~structural & ~get("door_only") & ~get("missing_building")
        elif name == "missing_road":
            eligible = compound_row & ~structural & ~get("door_only") & ~get("missing_compound")
        elif name == "wrong_community":
            eligible = ~structural
        elif name == "missing_community":
            eligible = ~get("wrong_community") & ~get("community_only")
        elif name in ("missing_street", "missing_district", "missing_city"):
            eligible = ~none
        elif name == "short_admin":
            eligible = ~(
                get("missing_city")
                & get("missing_district")
                & get("missing_street")
                & get("missing_community")
            )
        elif name in ("compound_alias", "typo_compound"):
            named = compound_row & ~structural & ~get("door_only") & ~get("missing_compound")
            eligible = named & (
                has_short
                if name == "compound_alias"
                else has_compound_typo & ~get("compound_alias")
            )
        elif name in ("old_road_name", "typo_road"):
            road_shown = ~structural & ~get("missing_road")
            eligible = road_shown & (
                has_old_road if name == "old_road_name" else has_road_typo & ~get("old_road_name")
            )
        elif name == "glued_unit_room":
            eligible = (
                compound_row & has_room & ~structural & ~get("door_only") & ~get("missing_building")
            )
        elif name == "glued_door_unit_room":
            eligible = standalone_row & ~structural
        elif name == "building_suffix":
            eligible = (
                compound_row
                & ~structural
                & ~get("door_only")
                & ~get("missing_building")
                & ~get("glued_unit_room")
            )
        elif name == "chinese_numerals":
            glued = get("glued_unit_room") | get("glued_door_unit_room")
            eligible = ~structural & ~glued & ~(get("missing_building") & get("missing_road"))
        elif name == "fullwidth":  # only where digits are written
            no_digits = get("missing_building") & get("missing_road")
            eligible = ~get("community_only") & ~get("chinese_numerals") & ~no_digits
        else:  # traditional
            eligible = ~none
        flags[name] = _pick(rng, eligible, share)
    return flags


def resolvable_levels(flags: dict[str, BoolArray]) -> npt.NDArray[np.object_]:
    """building unless a structural variant says compound, door, community or none."""
    n = next(iter(flags.values())).shape[0]
    level = np.full(n, "building", dtype=object)
    level[flags["missing_building"]] = "compound"
    level[flags["door_only"]] = "door"
    level[flags["community_only"]] = "community"
    level[flags["nonexistent"]] = "none"
    return level


def variant_labels(flags: dict[str, BoolArray]) -> list[str]:
    """Per row, the variant names it carries joined by ';' ("" for a clean row)."""
    names = [name for name in VARIANT_NAMES if name in flags]
    stacked = np.column_stack([flags[name] for name in names])
    return [";".join(name for name, on in zip(names, row, strict=True) if on) for row in stacked]


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


def chinese_digits(value: int) -> str:
    """Digit by digit, as room numbers are read (401 → 四零一)."""
    return "".join(vocab.CHINESE_DIGITS[int(d)] for d in str(value))


@dataclass
class RowChoices:
    """Random draws used while rendering, drawn once per batch for speed and determinism."""

    pick: IntArray  # general-purpose choice per row
    pick2: IntArray
    fake_door: BoolArray  # nonexistent flavour: a door past the road's end (else a fake compound)

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int) -> RowChoices:
        return cls(rng.integers(0, 1 << 30, n), rng.integers(0, 1 << 30, n), rng.random(n) < 0.5)


def render_addresses(
    ctx: VariantContext,
    building: IntArray,
    unit: IntArray,
    room: IntArray,
    flags: dict[str, BoolArray],
    rng: np.random.Generator,
) -> list[str]:
    """The address text of every row, following its flags."""
    book = ctx.book
    n = building.shape[0]
    choice = RowChoices.draw(rng, n)
    on = {name: flags[name].tolist() for name in flags}
    out: list[str] = []
    for row in range(n):
        b = int(building[row])
        f = {name: values[row] for name, values in on.items()}
        pick = int(choice.pick[row])
        pick2 = int(choice.pick2[row])
        out.append(
            _render_one(
                ctx,
                book,
                b,
                int(unit[row]),
                int(room[row]),
                f,
                pick,
                pick2,
                bool(choice.fake_door[row]),
            )
        )
    return out


def _render_one(
    ctx: VariantContext,
    book: AddressBook,
    b: int,
    unit: int,
    room: int,
    f: dict[str, bool],
    pick: int,
    pick2: int,
    fake_door: bool,
) -> str:
    street = str(book.street_name[b])
    present = (
        (0, not f["missing_city"]),
        (1, not f["missing_district"]),
        (2, not f["missing_street"] and street.endswith("街道")),
        (3, not f["missing_community"]),
    )
    targets = [target for target, shown in present if shown]
    short_target = targets[pick % len(targets)] if f["short_admin"] and targets else -1
    parts: list[str] = []
    if not f["missing_city"]:
        parts.append(vocab.CITY_SHORT if short_target == 0 else vocab.CITY_NAME)
    if not f["missing_district"]:
        parts.append(str(book.district_short[b] if short_target == 1 else book.district_name[b]))
    if not f["missing_street"]:
        if short_target == 2:
            street = street + "办事处" if pick2 % 2 else street.removesuffix("街道") + "办事处"
        parts.append(street)
    if not f["missing_community"]:
        community = str(book.community_name[b])
        if f["wrong_community"]:
            others = [
                c for c in ctx.community_names_by_street[str(book.street_code[b])] if c != community
            ]
            community = others[pick2 % len(others)]
        if short_target == 3:
            community += (
                ("居委会" if pick2 % 2 else "居民委员会") if community.endswith("社区") else "委会"
            )
        parts.append(community)
    if f["community_only"]:
        parts.append(("", "平房区", "住户", "")[pick2 % 4])
        return _finish("".join(parts), f)

    numerals = f["chinese_numerals"]
    road_index = int(book.road[b])
    road = ctx.road_names[road_index]
    if f["old_road_name"]:
        road = ctx.road_old[road_index]
    elif f["typo_road"]:
        typos = ctx.road_typos[road_index]
        road = typos[pick2 % len(typos)]
    door_number = int(book.door_number[b])
    unit_room = ""
    if unit > 0:
        unit_text = chinese_number(unit) if numerals else str(unit)
        room_text = chinese_digits(room) if numerals else str(room)
        unit_room = f"{unit_text}单元{room_text}室"

    if f["nonexistent"]:
        district = str(book.district_name[b])
        fakes = ctx.fake_compounds_by_district.get(district, [])
        if fake_door or not fakes:
            roads = ctx.urban_roads_by_district.get(district) or [road_index]
            fake_road = roads[pick2 % len(roads)]
            top = max(ctx.max_number.get((fake_road, 0), 0), ctx.max_number.get((fake_road, 1), 0))
            number = top + 30 + 2 * (pick % 60) + pick2 % 2  # past the last door on either side
            tail = unit_room or f"{1 + pick2 % 3}单元{(2 + pick2 % 5) * 100 + 1}室"
            parts.append(f"{ctx.road_names[fake_road]}{number}号{tail}")
        else:
            name = fakes[pick2 % len(fakes)]
            building_no = 1 + pick % 12
            suffix = (
                BUILDING_SUFFIXES[pick2 % len(BUILDING_SUFFIXES)]
                if f["building_suffix"]
                else "号楼"
            )
            parts.append(f"{name}{building_no}{suffix}{unit_room or '1单元101室'}")
        return _finish("".join(parts), f)

    kind = str(book.kind[b])
    if kind != "compound":  # standalone apartment building or house: the door plate is the building
        door = chinese_number(door_number) if numerals and unit == 0 else str(door_number)
        if f["glued_door_unit_room"]:
            parts.append(f"{road}{door_number}-{unit}-{room}")
        else:
            parts.append(f"{road}{door}号{unit_room}")
        return _finish("".join(parts), f)

    if not f["missing_road"]:
        only_number = f["door_only"] or f["missing_building"]
        door = chinese_number(door_number) if numerals and only_number else str(door_number)
        parts.append(f"{road}{door}号")
    if f["door_only"]:
        if pick2 % 2:
            parts.append(unit_room)
        return _finish("".join(parts), f)
    if not f["missing_compound"]:
        compound = int(book.compound[b])
        name = str(book.compound_name[b])
        if f["compound_alias"]:
            options = [o for o in (ctx.compound_short[compound], ctx.compound_alias[compound]) if o]
            name = options[pick2 % len(options)]
            if pick % 3 == 0:
                name += "小区"
        elif f["typo_compound"]:
            typos = ctx.compound_typos[compound]
            name = typos[pick2 % len(typos)]
        parts.append(name)
    if f["missing_building"]:
        if pick2 % 2:
            parts.append(unit_room)
        return _finish("".join(parts), f)
    number = int(book.building_number[b])
    if f["glued_unit_room"]:
        parts.append(f"{number}-{unit}-{room}")
        return _finish("".join(parts), f)
    number_text = chinese_number(number) if numerals else str(number)
    suffix = BUILDING_SUFFIXES[pick2 % len(BUILDING_SUFFIXES)] if f["building_suffix"] else "号楼"
    parts.append(f"{number_text}{suffix}{unit_room}")
    return _finish("".join(parts), f)


def _finish(text: str, f: dict[str, bool]) -> str:
    if f["fullwidth"]:
        text = text.translate(FULLWIDTH)
    if f["traditional"]:
        text = text.translate(TRADITIONAL)
    return text
