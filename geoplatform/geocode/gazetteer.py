"""The standard-address table (标准地址库) held in memory as lookup indexes.

Geocoding a roster of half a million addresses must not cost a query per row, and the table of
a city is small (tens of thousands of door plates and buildings), so the matcher loads it once
into dictionaries: admin names → codes, road → door number → places, compound name/alias →
compounds → building number → place, plus pinyin keys for homophone look-up.

Besides the standard addresses, the gazetteer takes the road layer (lines, former names,
door-number ranges), the compound-alias list (published, or learned from a person's answer in
review) and the landmarks (POIs with their colloquial names); each is optional.

Rows come either from the database (`standard_addresses` joined with `admin_areas` for the
names) or from a data frame with the same columns or with the Chinese headers a
标准地址 CSV carries (地址编码, 地址类型, 区县, 街道, 社区, 社区代码, 街路巷, 门牌号, 小区名称,
小区别名, 楼栋号, 建筑编号, X坐标, Y坐标); see `STANDARD_COLUMNS`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from geoplatform.errors import ConfigurationError
from geoplatform.geocode.landmarks import LandmarkIndex
from geoplatform.geocode.normalise import normalise, normalise_name
from geoplatform.geocode.parse import AdminToken, Lexicon, strip_compound_suffix
from geoplatform.geocode.roads import merge_lines

#: Chinese headers of a delivered standard-address file → the table's column names.
STANDARD_COLUMNS: dict[str, str] = {
    "地址编码": "source_key",
    "标准地址": "address",
    "地址类型": "level",
    "区县": "district",
    "街道": "street",
    "社区": "community",
    "社区代码": "community_code",
    "街道代码": "street_code",
    "区县代码": "district_code",
    "街路巷": "road",
    "街路巷曾用名": "road_old_names",
    "曾用名": "road_old_names",
    "门牌号": "door_number",
    "小区名称": "compound",
    "小区别名": "compound_aliases",
    "楼栋号": "building_number",
    "建筑编号": "building_key",
    "X坐标": "x",
    "Y坐标": "y",
}
#: A name part shared by more compounds than this is a generic word, not a short name.
MAX_SHORT_NAME_OWNERS = 8
_LEVELS = {"门牌": "door", "楼栋": "building", "小区": "compound", "街路巷": "road"}
_NUMBER = re.compile(r"^([0-9]+|[A-Z][0-9]*)")
_ALIAS_SPLIT = re.compile(r"[;；,，、|/]")
_ADMIN_SUFFIXES = {
    "city": ("市",),
    "district": ("区", "县", "旗"),
}
#: Province-level names (all of mainland China), so a leading province never reads as a road.
PROVINCES: tuple[str, ...] = tuple(
    [
        "北京市",
        "天津市",
        "上海市",
        "重庆市",
        "河北省",
        "山西省",
        "辽宁省",
        "吉林省",
        "黑龙江省",
        "江苏省",
        "浙江省",
        "安徽省",
        "福建省",
        "江西省",
        "山东省",
        "河南省",
        "湖北省",
        "湖南省",
        "广东省",
        "海南省",
        "四川省",
        "贵州省",
        "云南省",
        "陕西省",
        "甘肃省",
        "青海省",
        "台湾省",
        "内蒙古自治区",
        "广西壮族自治区",
        "西藏自治区",
        "宁夏回族自治区",
        "新疆维吾尔自治区",
        "香港特别行政区",
        "澳门特别行政区",
    ]
)


@dataclass(frozen=True, slots=True)
class Place:
    """One row of the standard-address table, with its components in normal form."""

    index: int
    id: int | None
    key: str | None
    address: str
    level: str
    district_code: str | None
    street_code: str | None
    community_code: str | None
    road: str | None
    door: str | None
    compound: str | None
    building: str | None
    building_id: int | None
    building_key: str | None
    lon: float | None
    lat: float | None


@dataclass
class Compound:
    """A residential compound: its gate door plate and its numbered buildings."""

    uid: int
    name: str
    community_code: str | None
    street_code: str | None
    district_code: str | None
    gate: Place | None = None
    buildings: dict[str, Place] = field(default_factory=dict)
    doors: set[tuple[str, str]] = field(default_factory=set)
    lon: float | None = None
    lat: float | None = None


@dataclass
class Road:
    """A named road and its door plates (door number → places behind it)."""

    name: str
    doors: dict[str, list[Place]] = field(default_factory=dict)
    district_codes: set[str] = field(default_factory=set)
    street_codes: set[str] = field(default_factory=set)
    community_codes: set[str] = field(default_factory=set)
    max_door: int = 0
    #: From the road layer: the door-number range and the line (EPSG:4326), when delivered.
    door_min: int | None = None
    door_max: int | None = None
    kind: str | None = None
    geometry: Any = None

    @property
    def last_door(self) -> int | None:
        """The highest door number the road carries: the layer's, else the table's."""
        if self.door_max is not None:
            return self.door_max
        return self.max_door or None


@dataclass
class Community:
    """A community/village: its chain and the centre of its addresses (community-level answers)."""

    code: str
    name: str
    street_code: str | None
    district_code: str | None
    lon: float | None = None
    lat: float | None = None


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any) -> str | None:
    """Door or building number in normal form: "154号" → "154", "3号楼" → "3", "A座" → "A"."""
    text = _text(value)
    if text is None:
        return None
    m = _NUMBER.match(normalise(text))
    return m.group(1) if m else None


def _int(value: Any) -> int | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return int(float(text))
    except ValueError:
        return None


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(result) else result


def short_forms(name: str, level: str) -> list[str]:
    """Short ways of writing an admin name: 海勃湾区 → 海勃湾, 乌海市 → 乌海."""
    forms = []
    for suffix in _ADMIN_SUFFIXES.get(level, ()):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            forms.append(name[: -len(suffix)])
    return forms


class Gazetteer:
    """In-memory indexes over the standard-address table."""

    def __init__(
        self,
        rows: Iterable[Mapping[str, Any]],
        *,
        roads: Iterable[Mapping[str, Any]] = (),
        aliases: Iterable[Mapping[str, Any]] = (),
        landmarks: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        self.places: list[Place] = []
        self.compounds: list[Compound] = []
        self.roads: dict[str, Road] = {}
        self.road_aliases: dict[str, list[str]] = {}  # old name → current names (may be several)
        self.communities: dict[str, Community] = {}
        self.compound_names: dict[str, list[Compound]] = {}  # official names and documented aliases
        self.compound_short: dict[str, list[Compound]] = {}  # derived distinctive parts
        self.admin_names: dict[str, list[AdminToken]] = {}
        self.doors_by_community: dict[tuple[str, str], list[Place]] = {}
        self.doors_by_street: dict[tuple[str, str], list[Place]] = {}
        self.gate_of: dict[int, Compound] = {}  # place index of a gate door plate → compound
        self._compound_by_key: dict[tuple[str, str | None], Compound] = {}
        self.alias_origin: dict[tuple[str, int], str] = {}  # (alias, compound uid) → origin
        self.compound_choices: list[str] = []
        self.road_choices: list[str] = []
        for row in rows:
            self._add(row)
        if not self.places:
            raise ConfigurationError("the standard-address table is empty: nothing to match")
        for road_row in roads:
            self._add_road_line(road_row)
        pending_aliases = list(aliases)
        for alias_row in pending_aliases:
            self._add_alias_row(alias_row)
        self._finish()
        prefixes = [n for n, tokens in self.admin_names.items() if any(not t.short for t in tokens)]
        self.landmarks = LandmarkIndex(landmarks, prefixes + [p for p in PROVINCES])

    def _add_road_line(self, row: Mapping[str, Any]) -> None:
        """A road of the road layer: its line and door range join the road the door plates
        name (or start it), its former names become old names."""
        name = _text(row.get("name"))
        if name is None:
            return
        name = normalise_name(name)
        road = self.roads.setdefault(name, Road(name))
        road.geometry = merge_lines(road.geometry, row.get("geometry"))
        low, high = _int(row.get("door_min")), _int(row.get("door_max"))
        if low is not None:
            road.door_min = low if road.door_min is None else min(road.door_min, low)
        if high is not None:
            road.door_max = high if road.door_max is None else max(road.door_max, high)
        road.kind = road.kind or _text(row.get("kind"))
        for codes, code in (
            (road.district_codes, _text(row.get("district_code"))),
            (road.street_codes, _text(row.get("street_code"))),
        ):
            if code:
                codes.add(code)
        former = row.get("former_names") or ()
        for old in _ALIAS_SPLIT.split(former) if isinstance(former, str) else former:
            old = normalise_name(str(old)) if old and str(old).strip() else ""
            if old and old != name:
                aliases = self.road_aliases.setdefault(old, [])
                if name not in aliases:
                    aliases.append(name)

    def _add_alias_row(self, row: Mapping[str, Any]) -> None:
        """A published (or learned) alias → the compound of that name in the stated area."""
        alias, official = _text(row.get("alias")), _text(row.get("compound"))
        if alias is None or official is None:
            return
        official = strip_compound_suffix(normalise_name(official))
        wanted = [
            (level, code)
            for level in ("community_code", "street_code", "district_code")
            if (code := _text(row.get(level)))
        ]
        targets = [
            c
            for c in self.compounds
            if c.name == official
            and all(getattr(c, level) in (None, code) for level, code in wanted)
        ]
        for compound in targets:
            self.add_alias(alias, compound.uid, origin=_text(row.get("origin")) or "published")

    def add_alias(self, alias: str, compound_uid: int, *, origin: str = "learned") -> bool:
        """Record ``alias`` as a name of compound ``compound_uid`` (a published list's entry or a
        person's answer in review); False when it was already known or names nothing."""
        alias = strip_compound_suffix(normalise_name(alias))
        if len(alias) < 2 or not 0 <= compound_uid < len(self.compounds):
            return False
        compound = self.compounds[compound_uid]
        owners = self.compound_names.setdefault(alias, [])
        if compound in owners:
            return False
        owners.append(compound)
        self.alias_origin[(alias, compound_uid)] = origin
        if hasattr(self, "lexicon"):
            self.compound_choices = sorted(self.compound_names)
            self.lexicon.compounds = set(self.compound_names) | set(self.compound_short)
            self.lexicon.refresh()
        return True

    def compound_uid(self, name: str, community_code: str | None = None) -> int | None:
        """The uid of the compound with this official name (in this community when given)."""
        name = strip_compound_suffix(normalise_name(name))
        for compound in self.compound_names.get(name, []):
            if compound.name == name and community_code in (None, compound.community_code):
                return compound.uid
        return None

    # -- building ---------------------------------------------------------------------------

    def _admin(self, name: str | None, level: str, code: str | None) -> None:
        if not name:
            return
        name = normalise_name(name)
        forms = [(name, False)] + [(f, True) for f in short_forms(name, level)]
        for form, short in forms:
            tokens = self.admin_names.setdefault(form, [])
            token = AdminToken(level, code, short)
            if token not in tokens:
                tokens.append(token)

    def _add(self, row: Mapping[str, Any]) -> None:
        community_code = _text(row.get("community_code"))
        street_code = _text(row.get("street_code")) or (
            community_code[:9] + "000" if community_code else None
        )
        district_code = _text(row.get("district_code")) or (
            street_code[:6] + "000000" if street_code else None
        )
        level = _text(row.get("level")) or "door"
        compound_name = _text(row.get("compound"))
        road = _text(row.get("road"))
        place = Place(
            index=len(self.places),
            id=_int(row.get("id")),
            key=_text(row.get("source_key")),
            address=_text(row.get("address")) or "",
            level=_LEVELS.get(level, level),
            district_code=district_code,
            street_code=street_code,
            community_code=community_code,
            road=normalise_name(road) if road else None,
            door=_number(row.get("door_number")),
            compound=strip_compound_suffix(normalise_name(compound_name))
            if compound_name
            else None,
            building=_number(row.get("building_number")),
            building_id=_int(row.get("building_id")),
            building_key=_text(row.get("building_key")) or _text(row.get("building_id")),
            lon=_float(row.get("lon")),
            lat=_float(row.get("lat")),
        )
        self.places.append(place)
        self._admin(_text(row.get("district")), "district", district_code)
        self._admin(_text(row.get("street")), "street", street_code)
        self._admin(_text(row.get("community")), "community", community_code)
        self._admin(self._city(row), "city", None)
        if community_code and community_code not in self.communities:
            self.communities[community_code] = Community(
                community_code,
                normalise_name(_text(row.get("community")) or ""),
                street_code,
                district_code,
            )
        if place.road:
            self._add_road(place, _text(row.get("road_old_names")))
        elif place.door is not None and place.level != "building":
            # a village door plate (李家村3组15号) has no road: reached through its area
            if place.community_code:
                self.doors_by_community.setdefault((place.community_code, place.door), []).append(
                    place
                )
            if place.street_code:
                self.doors_by_street.setdefault((place.street_code, place.door), []).append(place)
        if place.compound:
            self._add_compound(place, _text(row.get("compound_aliases")))

    @staticmethod
    def _city(row: Mapping[str, Any]) -> str | None:
        """The city name: a column when there is one, else what precedes the district in the
        full address (乌海市 in 乌海市海勃湾区…), less any province."""
        city = _text(row.get("city"))
        district, address = _text(row.get("district")), _text(row.get("address"))
        if city is None and district and address and (at := address.find(district)) > 0:
            city = address[:at]
            for province in PROVINCES:
                city = city.removeprefix(province)
        return city or None

    def _add_road(self, place: Place, old_names: str | None) -> None:
        assert place.road is not None
        road = self.roads.setdefault(place.road, Road(place.road))
        if place.door is not None:
            if place.level != "building" or not place.compound:
                # a compound's buildings share its gate's number: they are reached via the compound
                road.doors.setdefault(place.door, []).append(place)
                if place.community_code:
                    key = (place.community_code, place.door)
                    self.doors_by_community.setdefault(key, []).append(place)
                if place.street_code:
                    self.doors_by_street.setdefault((place.street_code, place.door), []).append(
                        place
                    )
            if place.door.isdigit():
                road.max_door = max(road.max_door, int(place.door))
        for codes, code in (
            (road.district_codes, place.district_code),
            (road.street_codes, place.street_code),
            (road.community_codes, place.community_code),
        ):
            if code:
                codes.add(code)
        for old in _ALIAS_SPLIT.split(old_names or ""):
            if old.strip():
                aliases = self.road_aliases.setdefault(normalise_name(old), [])
                if place.road not in aliases:
                    aliases.append(place.road)

    def _add_compound(self, place: Place, aliases: str | None) -> None:
        assert place.compound is not None
        key = (place.compound, place.community_code)
        compound = self._compound_by_key.get(key)
        if compound is None:
            compound = Compound(
                len(self.compounds),
                place.compound,
                place.community_code,
                place.street_code,
                place.district_code,
            )
            self.compounds.append(compound)
            self._compound_by_key[key] = compound
            self.compound_names.setdefault(place.compound, []).append(compound)
        if place.building is not None and place.level == "building":
            compound.buildings.setdefault(place.building, place)
        elif place.level in ("door", "compound") and compound.gate is None:
            compound.gate = place
            self.gate_of[place.index] = compound
        if place.road and place.door:
            compound.doors.add((place.road, place.door))
        for alias in _ALIAS_SPLIT.split(aliases or ""):
            alias = strip_compound_suffix(normalise_name(alias)) if alias.strip() else ""
            if len(alias) >= 2 and compound not in self.compound_names.get(alias, []):
                self.compound_names.setdefault(alias, []).append(compound)

    def _finish(self) -> None:
        """Centres, derived short names and the pinyin indexes once every row is in."""
        sums: dict[str, list[float]] = {}
        for place in self.places:
            if place.community_code and place.lon is not None and place.lat is not None:
                acc = sums.setdefault(place.community_code, [0.0, 0.0, 0.0])
                acc[0] += place.lon
                acc[1] += place.lat
                acc[2] += 1
        for code, (lon, lat, n) in sums.items():
            if code in self.communities:
                self.communities[code].lon, self.communities[code].lat = lon / n, lat / n
        for compound in self.compounds:
            members = [p for p in compound.buildings.values() if p.lon is not None]
            if compound.gate is not None and compound.gate.lon is not None:
                compound.lon, compound.lat = compound.gate.lon, compound.gate.lat
            elif members:
                compound.lon = sum(p.lon or 0.0 for p in members) / len(members)
                compound.lat = sum(p.lat or 0.0 for p in members) / len(members)
        self._derive_short_names()
        self.compound_choices = sorted(self.compound_names)
        self.road_choices = sorted(set(self.roads) | set(self.road_aliases))
        self.lexicon = Lexicon(
            admin=self.admin_names,
            roads=set(self.roads) | set(self.road_aliases),
            compounds=set(self.compound_names) | set(self.compound_short),
        )
        self._add_provinces()
        self.lexicon.refresh()

    def _derive_short_names(self) -> None:
        """Colloquial short names: a leading or trailing part (≥ 2 characters) of a compound's
        name, such as the brand 银城 or the distinctive 华府 of 银城华府. Residents write these;
        the table often lists only some of them as aliases. A part shared by a few compounds
        (丽景 of 丽景新村 and of 海达丽景) is kept with all of them: the rest of the address
        decides; one shared by more is a generic word (花园) and names nothing."""
        owners: dict[str, set[int]] = {}
        for compound in self.compounds:
            name = compound.name
            parts = {name[:k] for k in range(2, len(name))} | {
                name[k:] for k in range(1, len(name) - 1)
            }
            for part in parts:
                owners.setdefault(part, set()).add(compound.uid)
        taken = set(self.compound_names) | set(self.roads) | set(self.admin_names)
        for part, uids in owners.items():
            if len(uids) <= MAX_SHORT_NAME_OWNERS and part not in taken:
                self.compound_short[part] = [self.compounds[uid] for uid in sorted(uids)]

    def _add_provinces(self) -> None:
        for province in PROVINCES:
            token = AdminToken("province", None, False)
            self.admin_names.setdefault(province, [token])
            short = province.removesuffix("省").removesuffix("市")
            for suffix in ("自治区", "壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区"):
                short = short.removesuffix(suffix)
            if len(short) >= 2 and short not in self.admin_names:
                self.admin_names[short] = [AdminToken("province", None, True)]

    def add_road_alias(self, old: str, current: str) -> bool:
        """Record that ``old`` is another name of road ``current`` (learned or declared). An old
        name may have been used by several roads (every town had its 向阳路)."""
        if old in self.roads or current not in self.roads:
            return False
        aliases = self.road_aliases.setdefault(old, [])
        if current in aliases:
            return False
        aliases.append(current)
        self.road_choices = sorted(set(self.roads) | set(self.road_aliases))
        self.lexicon.roads = set(self.roads) | set(self.road_aliases)
        self.lexicon.refresh()
        return True

    # -- lookups ----------------------------------------------------------------------------

    def compounds_named(self, name: str) -> tuple[list[Compound], bool]:
        """Compounds with this official name or alias (exact), else by a derived short name;
        the flag says whether the hit was a derived short name."""
        hits = self.compound_names.get(name)
        if hits:
            return hits, False
        return self.compound_short.get(name, []), True

    def roads_named(self, name: str) -> tuple[list[Road], bool]:
        """The road with this name, or the roads whose old name this is (flag: by old name)."""
        road = self.roads.get(name)
        if road is not None:
            return [road], False
        return [self.roads[n] for n in self.road_aliases.get(name, ()) if n in self.roads], True
