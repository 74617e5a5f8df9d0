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
from geoplatform.demo.config import LABEL_NAMES, VARIANT_NAMES, AddressVariantShares
from geoplatform.demo.delivery import delivery
from geoplatform.demo.numerals import chinese_digits, chinese_number, financial, mixable
from geoplatform.demo.presets import active
from geoplatform.demo.roads import RoadNetwork
from geoplatform.demo.stock import BuildingStock

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

BUILDING_SUFFIXES = ("栋", "幢", "座", "#楼", "#", "栋楼", "号院", "楼", "号楼")
SEPARATORS = ("-", ",", "，", "/", " ", "。", "、", "－", "　")
REMARKS = ("(东门)", "（靠北门）", "(旁边是超市)", "【租户】", "（原址）", "(二楼)")
#: one-character typos that are not homophones: look-alike characters
LOOKALIKES = vocab.pairs(
    "人:入 大:太 土:士 王:玉 木:本 中:申 田:由 白:百 干:千 未:末 天:夫 西:酉 "
    "日:目 水:永 午:牛 石:右 东:束 兴:共 山:出 新:亲 阳:阴 华:哗 湖:湘 江:汪 河:何 "
    "昌:冒 升:开 庆:床 秀:季 文:又 建:健 和:私 光:先 安:宋 康:庚"
)
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
    developers: list[str]
    first_two: list[str]  # a compound's first two characters where unique in its street, or ""
    top_building: dict[int, int]  # compound → highest building number
    road_char_typos: list[list[str]]
    road_kind: list[str]
    district_names: list[str]


def build_context(
    layout: AdminLayout,
    roads: RoadNetwork,
    stock: BuildingStock,
    book: AddressBook,
    developers: list[str] | None = None,
) -> VariantContext:
    """Typos that stay resolvable, look-alike names that do not exist, and the other lookups."""
    compounds = stock.compounds
    known_compound = set(compounds.name) | {s for s in compounds.short_name if s}
    known_compound |= {name.removesuffix("小区") for name in compounds.name}
    compound_index = TypoIndex(known_compound)
    compound_typos = [compound_index.resolvable_typos(n, COMPOUND_SUFFIXES) for n in compounds.name]
    known_road = set(roads.display) | {o for o in roads.old_names if o}
    road_index = TypoIndex(known_road)
    road_typos = [
        road_index.resolvable_typos(n, ROAD_SUFFIXES) if kind != "group" else []
        for n, kind in zip(roads.display, roads.kinds, strict=True)
    ]
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
    district_names = {spec.code6: spec.name for spec in active().districts}
    for index, kind in enumerate(roads.kinds):
        if kind == "urban":
            urban.setdefault(district_names[roads.district_code6[index]], []).append(index)
    return VariantContext(
        book=book,
        compound_short=compounds.short_name,
        compound_alias=compounds.documented_alias,
        compound_typos=compound_typos,
        road_names=roads.display,
        road_old=roads.old_names,
        road_typos=road_typos,
        community_names_by_street=community_by_street,
        fake_compounds_by_district=fakes,
        urban_roads_by_district=urban,
        max_number=stock.max_number,
        developers=developers or [""] * len(compounds.name),
        first_two=_first_two(compounds.name, book),
        top_building=_top_buildings(book),
        road_char_typos=[_char_typos(n, known_road) for n in roads.display],
        road_kind=list(roads.kinds),
        district_names=[spec.name for spec in active().districts],
    )


def _first_two(names: list[str], book: AddressBook) -> list[str]:
    street_of: dict[int, str] = {}
    for compound, street in zip(book.compound, book.street_code, strict=True):
        if compound >= 0:
            street_of.setdefault(int(compound), str(street))
    counts: dict[tuple[str, str], int] = {}
    for index, name in enumerate(names):
        key = (street_of.get(index, ""), name[:2])
        counts[key] = counts.get(key, 0) + 1
    return [
        name[:2]
        if len(name) > 3
        and counts[(street_of.get(i, ""), name[:2])] == 1
        and not name.endswith(("宿舍", "家属院", "生活区", "新村"))
        else ""
        for i, name in enumerate(names)
    ]


def _top_buildings(book: AddressBook) -> dict[int, int]:
    top: dict[int, int] = {}
    for compound, number in zip(book.compound, book.building_number, strict=True):
        if compound >= 0:
            top[int(compound)] = max(top.get(int(compound), 0), int(number))
    return top


def _char_typos(name: str, known: set[str]) -> list[str]:
    out = []
    for position, char in enumerate(name[:-1]):
        other = LOOKALIKES.get(char)
        if other:
            typo = name[:position] + other + name[position + 1 :]
            if typo not in known:
                out.append(typo)
    return out


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
    has_char_typo = np.array([bool(ctx.road_char_typos[r]) for r in road])
    has_first_two = np.array([bool(ctx.first_two[c]) if c >= 0 else False for c in compound])
    has_developer = np.array([bool(ctx.developers[c]) if c >= 0 else False for c in compound])
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
        elif name == "traditional":
            eligible = ~none
        elif name == "nonexistent_building":
            eligible = compound_row & ~structural & ~get("door_only") & ~get("missing_building")
            eligible &= ~get("glued_unit_room") & ~get("missing_compound")
        elif name == "wrong_district":
            eligible = ~structural & ~get("missing_district") & ~get("nonexistent_building")
        elif name in ("alias_first_two", "alias_developer", "alias_xiaoqu"):
            named = compound_row & ~structural & ~get("door_only") & ~get("missing_compound")
            named &= ~get("compound_alias") & ~get("typo_compound") & ~get("alias_first_two")
            named &= ~get("alias_developer")
            extra = {"alias_first_two": has_first_two, "alias_developer": has_developer}
            eligible = named & extra.get(name, ~none)
        elif name == "typo_road_char":
            eligible = ~structural & ~get("missing_road") & ~get("old_road_name")
            eligible &= ~get("typo_road") & has_char_typo
        elif name in ("punctuation", "bracket_remark"):
            eligible = ~get("community_only")
        elif name in ("financial_numerals", "mixed_numerals", "liang_numeral"):
            glued = get("glued_unit_room") | get("glued_door_unit_room")
            eligible = compound_row & ~structural & ~glued & ~get("missing_building")
            eligible &= ~get("chinese_numerals") & ~get("fullwidth") & ~get("door_only")
            eligible &= ~get("financial_numerals") & ~get("mixed_numerals")
            if name == "mixed_numerals":
                number = book.building_number[building]
                door = book.door_number[building]
                tall = mixable(number)
                eligible &= tall | (~get("missing_road") & mixable(door) & (door < 1000))
            if name == "liang_numeral":  # 两 for a 2: 两号楼, 两单元
                eligible &= book.building_number[building] == 2
        else:
            raise AssertionError(name)
        flags[name] = _pick(rng, eligible, share)
    district = book.district_name[building]
    no_fakes = np.array([not ctx.fake_compounds_by_district.get(str(d)) for d in district])
    door_flavour = (rng.random(n) < 0.5) | no_fakes
    flags["nonexistent_door"] = flags["nonexistent"] & door_flavour
    flags["nonexistent_compound"] = flags["nonexistent"] & ~door_flavour
    road_kind = np.array(ctx.road_kind, dtype=object)[road]
    village = (kind == "house") & (book.community_kind[building] == "村")
    flags["village_lane"] = village & (road_kind == "lane") & ~get("nonexistent")
    flags["village_group"] = village & (road_kind == "group") & ~get("nonexistent")
    return flags


def resolvable_levels(flags: dict[str, BoolArray]) -> npt.NDArray[np.object_]:
    """building unless a structural variant says compound, door, community or none."""
    n = next(iter(flags.values())).shape[0]
    level = np.full(n, "building", dtype=object)
    level[flags["missing_building"]] = "compound"
    level[flags["door_only"]] = "door"
    level[flags["community_only"]] = "community"
    level[flags["nonexistent"]] = "none"
    if "nonexistent_building" in flags:
        level[flags["nonexistent_building"]] = "none"
    return level


def variant_labels(flags: dict[str, BoolArray]) -> list[str]:
    """Per row, the variant names it carries joined by ';' ("" for a clean row)."""
    names = [name for name in LABEL_NAMES if name in flags]
    stacked = np.column_stack([flags[name] for name in names])
    return [";".join(name for name, on in zip(names, row, strict=True) if on) for row in stacked]


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
                f["nonexistent_door"],
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
        parts.append(active().city_short if short_target == 0 else active().city_name)
    if not f["missing_district"]:
        district = str(book.district_short[b] if short_target == 1 else book.district_name[b])
        if f["wrong_district"]:
            others = [d for d in ctx.district_names if d != book.district_name[b]]
            district = others[pick2 % len(others)]
        parts.append(district)
    if not f["missing_street"]:
        if short_target == 2:
            street = street + "办事处" if pick2 % 2 else street.removesuffix("街道") + "办事处"
        parts.append(street)
    road_index = int(book.road[b])
    group = ctx.road_kind[road_index] == "group"
    if not f["missing_community"] or group:  # a 组 is always written after its village
        community = str(book.community_name[b])
        if f["wrong_community"] and not group:
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
        return _finish(parts, f, pick)

    numerals = f["chinese_numerals"]
    road = ctx.road_names[road_index]
    if f["old_road_name"]:
        road = ctx.road_old[road_index]
    elif f["typo_road"]:
        typos = ctx.road_typos[road_index]
        road = typos[pick2 % len(typos)]
    elif f["typo_road_char"]:
        typos = ctx.road_char_typos[road_index]
        road = typos[pick2 % len(typos)]
    door_number = int(book.door_number[b])
    unit_room = ""
    if unit > 0:
        unit_text = chinese_number(unit) if numerals else str(unit)
        room_text = chinese_digits(room, pick % 2 == 0) if numerals else str(room)
        if f["liang_numeral"] and unit == 2:
            unit_text = "两"
        elif f["financial_numerals"]:
            unit_text = financial(unit)
        unit_room = f"{unit_text}单元{room_text}室"

    if f["nonexistent"]:
        district = str(book.district_name[b])
        fakes = ctx.fake_compounds_by_district.get(district, [])
        if fake_door:
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
        return _finish(parts, f, pick)

    kind = str(book.kind[b])
    if kind != "compound":  # standalone apartment building or house: the door plate is the building
        door = chinese_number(door_number) if numerals and unit == 0 else str(door_number)
        if f["glued_door_unit_room"]:
            parts.append(f"{road}{door_number}-{unit}-{room}")
        else:
            parts.append(f"{road}{door}号{unit_room}")
        return _finish(parts, f, pick)

    if not f["missing_road"]:
        only_number = f["door_only"] or f["missing_building"]
        door = chinese_number(door_number) if numerals and only_number else str(door_number)
        if f["mixed_numerals"] and not mixable(int(book.building_number[b])):
            door = chinese_number(door_number)[:-1] + str(door_number % 10)
        parts.append(f"{road}{door}号")
    if f["door_only"]:
        if pick2 % 2:
            parts.append(unit_room)
        return _finish(parts, f, pick)
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
        elif f["alias_first_two"]:
            name = ctx.first_two[compound] + ("小区" if pick % 2 else "")
        elif f["alias_developer"]:
            name = ctx.developers[compound] + name.removesuffix("小区")
        elif f["alias_xiaoqu"]:
            name = name.removesuffix("小区") if name.endswith("小区") else name + "小区"
        parts.append(name)
    if f["missing_building"]:
        if pick2 % 2:
            parts.append(unit_room)
        return _finish(parts, f, pick)
    number = int(book.building_number[b])
    if f["nonexistent_building"]:
        number = ctx.top_building[int(book.compound[b])] + 1 + pick % 5
    if f["glued_unit_room"]:
        parts.append(f"{number}-{unit}-{room}")
        return _finish(parts, f, pick)
    number_text = chinese_number(number) if numerals else str(number)
    if f["financial_numerals"]:
        number_text = financial(number)
    elif f["liang_numeral"] and number == 2:
        number_text = "两"
    elif f["mixed_numerals"] and mixable(number):
        number_text = chinese_number(number)[:-1] + str(number % 10)
    default = delivery().building_label
    options = [s for s in BUILDING_SUFFIXES if s != default]
    suffix = options[pick2 % len(options)] if f["building_suffix"] else default
    parts.append(f"{number_text}{suffix}{unit_room}")
    return _finish(parts, f, pick)


def _finish(parts: list[str], f: dict[str, bool], pick: int) -> str:
    parts = [part for part in parts if part]
    if f.get("bracket_remark") and parts:
        at = 1 + pick % len(parts)
        parts = [*parts[:at], REMARKS[pick % len(REMARKS)], *parts[at:]]
    if f.get("punctuation"):
        sep = SEPARATORS[(pick // 7) % len(SEPARATORS)]
        if len(parts) == 1:  # one element group: separate the door from what follows it
            head, mark, tail = parts[0].partition("号")
            parts = [head + mark, tail] if mark and tail else [head[:2], head[2:] + mark + tail]
        text = sep.join(parts)
    else:
        text = "".join(parts)
    if f["fullwidth"]:
        text = text.translate(FULLWIDTH)
    if f["traditional"]:
        text = text.translate(TRADITIONAL)
    return text
