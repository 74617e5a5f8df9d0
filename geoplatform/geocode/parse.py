"""Split a normalised address into its components: admin chain, road + door, compound, building,
unit and room.

Chinese addresses run from the largest unit to the smallest without separators, and compound
names have no fixed suffix (银城华府, 金泰城, 矿务局家属院), so a suffix grammar alone cannot find
where the admin chain ends or where the compound begins. The parser therefore works with a
`Lexicon` of the names the standard-address table knows (admin areas with their short forms,
roads with their old names, compounds with their aliases):

1. the admin chain is peeled off the front, longest known token first (a short form such as
   海勃湾 only when no longer road or compound name starts at the same place);
2. building, unit, floor and room are peeled off the back by their markers (3栋2单元401室,
   3-2-401, 3栋2-401, 3楼2单元: a bare 楼 before a unit is a building, after one a floor;
   N号院 at the end of a compound name is its building N);
3. a road with its door number is taken from the front, by name when known, else by its
   regional suffix (路 街 大街 大道 道 巷 弄 里 胡同 公路 线); N号院 after a road is the
   courtyard behind door N (号院N号楼, Beijing); a village's group (3组, 村民小组) with its
   door number (3组15号) is taken the same way;
4. what is left is the compound (with 小区 dropped).

Unknown (misspelt) names stay in their component as written: the matcher resolves them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field

from geoplatform.geocode.normalise import normalise

ADMIN_LEVELS = ("province", "city", "district", "street", "community")

#: Road-type suffixes, longest first (a name ending in one of these is a road).
ROAD_SUFFIXES = ("大街", "大道", "胡同", "公路", "路", "街", "巷", "弄", "里", "道", "线")
_SUFFIX_GROUP = "|".join(ROAD_SUFFIXES)
_ROAD_BY_SUFFIX = re.compile(
    rf"^(?P<road>[^\d\-]{{1,12}}?(?:{_SUFFIX_GROUP}))(?P<door>\d+)(?:号|-(?=\d))"
)
_ROAD_ONLY = re.compile(rf"^(?P<road>[^\d\-]{{1,12}}?(?:{_SUFFIX_GROUP}))$")
_DOOR = re.compile(r"^(?P<door>\d+)(?:号院|号|-(?=\d))")
_GROUP = re.compile(r"^(?P<group>\d+)组(?:(?P<door>\d+)号?)?")
_BUILDING_LOU = re.compile(r"(?<![0-9])(?P<building>[0-9]+|[A-Z])(?:楼|号院)$")
_GLUED3 = re.compile(r"(?P<a>[0-9]+|[A-Z])-(?P<b>\d+)-(?P<c>\d+)(?:室|号|户)?$")
_GLUED2 = re.compile(r"(?P<b>\d+)-(?P<c>\d+)(?:室|号|户)?$")
_ROOM = re.compile(r"(?P<room>\d+)(?:室|户)$")
_BARE_ROOM_AFTER_UNIT = re.compile(r"单元(?P<room>\d+)$")
_FLOOR = re.compile(r"(?P<floor>\d+)(?:层|楼|F)$")  # 3层, 3楼, 3F (shops write 2F)
_FLOOR_ROOM = re.compile(r"(?<=[^\d])(?P<floor>\d+)(?:层|楼)(?P<room>\d+)$")
_UNIT = re.compile(r"(?P<unit>\d+)(?:单元|单|门)$")
_BUILDING = re.compile(r"(?P<building>[0-9]+|[A-Z]|[A-Z][0-9]+)栋$")
_COMPOUND_TAIL = ("小区",)
#: Words rosters put where a place name would go that name no place (平房区: "the bungalows").
FILLER = frozenset(
    ["住户", "居民", "平房", "平房区", "散户", "院内", "附近", "本地", "无", "不详", "暂无", "空"]
)


def strip_compound_suffix(name: str) -> str:
    """Compound key: the name without a trailing 小区 (银城华府小区 and 银城华府 are one place)."""
    for suffix in _COMPOUND_TAIL:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True)
class AdminToken:
    """A name of an admin area as it may be written: full (海勃湾区) or short (海勃湾)."""

    level: str
    code: str | None
    short: bool


def _prefix_index(names: Iterable[str]) -> dict[str, tuple[int, ...]]:
    """First two characters → lengths of the names starting with them, longest first."""
    lengths: dict[str, set[int]] = {}
    for name in names:
        if len(name) >= 2:
            lengths.setdefault(name[:2], set()).add(len(name))
    return {k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()}


def _longest(
    names: Set[str] | Mapping[str, object], index: dict[str, tuple[int, ...]], text: str
) -> str | None:
    """The longest name in ``names`` that ``text`` starts with."""
    for length in index.get(text[:2], ()):
        if text[:length] in names:
            return text[:length]
    return None


@dataclass
class Lexicon:
    """The names the parser recognises, built by the gazetteer from the standard table."""

    admin: dict[str, list[AdminToken]] = field(default_factory=dict)
    roads: Set[str] = field(default_factory=set)
    compounds: Set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._admin_index = _prefix_index(self.admin)
        self._road_index = _prefix_index(self.roads)
        self._compound_index = _prefix_index(self.compounds)

    def refresh(self) -> None:
        """Rebuild the prefix indexes after the name sets changed."""
        self.__post_init__()

    def admin_at(self, text: str) -> str | None:
        """The admin token ``text`` starts with, unless a longer road/compound name starts there."""
        token = _longest(self.admin, self._admin_index, text)
        if token is None:
            return None
        if all(t.short for t in self.admin[token]):
            other = max(
                len(_longest(self.roads, self._road_index, text) or ""),
                len(_longest(self.compounds, self._compound_index, text) or ""),
            )
            if other > len(token):
                return None
        return token

    def road_at(self, text: str) -> str | None:
        """The longest known road name (current or old) ``text`` starts with."""
        return _longest(self.roads, self._road_index, text)


@dataclass
class ParsedAddress:
    """Components of one address; None where the address does not say."""

    text: str
    admin: dict[str, list[AdminToken]] = field(default_factory=dict)
    road: str | None = None
    road_known: bool = False
    door: str | None = None
    compound: str | None = None
    building: str | None = None
    unit: str | None = None
    floor: str | None = None
    room: str | None = None
    group: str | None = None
    glued: bool = False
    #: Characters of the admin chain at the front of ``text``.
    admin_length: int = 0
    #: The last admin name when it was a short form right before the rest (海南 of 海南花园?).
    short_prefix: tuple[str, str] | None = None

    def codes(self, level: str) -> set[str]:
        """Codes of the admin areas of ``level`` the address names (usually zero or one)."""
        return {t.code for t in self.admin.get(level, ()) if t.code is not None}


def _peel_admin(text: str, lexicon: Lexicon, parsed: ParsedAddress) -> str:
    while text:
        token = lexicon.admin_at(text)
        if token is None:
            break
        admins = lexicon.admin[token]
        for admin in admins:
            parsed.admin.setdefault(admin.level, []).append(admin)
        text = text[len(token) :]
        short = all(admin.short for admin in admins)
        parsed.short_prefix = (token, admins[0].level) if short else None
    return text


def _peel_tail(text: str, parsed: ParsedAddress) -> str:
    m = _GLUED3.search(text)
    if m:
        parsed.building, parsed.unit, parsed.room = m["a"], m["b"], m["c"]
        parsed.glued = True
        return text[: m.start()]
    m = _ROOM.search(text) or _BARE_ROOM_AFTER_UNIT.search(text)
    if m is None and (f := _FLOOR_ROOM.search(text)):
        parsed.room = f["room"]  # 5楼502: the room of a floor
        text = text[: f.start("room")]
    elif m:
        parsed.room = m["room"]
        text = text[: m.start("room")] if m.re is _BARE_ROOM_AFTER_UNIT else text[: m.start()]
    elif (m := _GLUED2.search(text)) and re.search(r"栋$", text[: m.start()]):
        parsed.unit, parsed.room = m["b"], m["c"]
        text = text[: m.start()]
    if m := _FLOOR.search(text):
        parsed.floor = m["floor"]
        text = text[: m.start()]
    if m := _UNIT.search(text):
        parsed.unit = m["unit"]
        text = text[: m.start()]
    if m := _BUILDING.search(text):
        parsed.building = m["building"]
        text = text[: m.start()]
    elif (
        (m := _BUILDING_LOU.search(text))
        and m.start() > 0
        and not _ROAD_ONLY.match(text[: m.start()])
        and (parsed.unit is not None or parsed.room is not None or m.group(0).endswith("院"))
        and (parsed.floor is None or m.group(0).endswith("院"))
    ):
        # 3楼2单元 / 3楼401室 / 银城华府3号院: the building (a bare 楼 alone is a floor)
        parsed.building = m["building"]
        text = text[: m.start()]
    elif (
        parsed.floor is not None
        and text
        and not text[-1].isdigit()
        and not text.endswith("号")  # 中山路12号3楼: a floor of the building behind the door
        and (parsed.room is None or not parsed.room.startswith(parsed.floor))
    ):
        # 银城华府3楼 / 银城华府3楼2单元 / 银城华府3楼101: 楼 is the building when no room
        # on that floor follows (5楼502 is the fifth floor)
        parsed.building, parsed.floor = parsed.floor, None
    return text


def _peel_road(text: str, lexicon: Lexicon, parsed: ParsedAddress) -> str:
    known = lexicon.road_at(text)
    if known is not None:
        parsed.road, parsed.road_known = known, True
        text = text[len(known) :]
        if m := _DOOR.match(text):
            parsed.door = m["door"]
            text = _after_door(text[m.end("door") :])
        return text
    if m := _ROAD_BY_SUFFIX.match(text):
        parsed.road, parsed.door = m["road"], m["door"]
        return _after_door(text[m.end("door") :])
    if m := _GROUP.match(text):
        parsed.group, parsed.door = m["group"], m["door"]
        return text[m.end() :]
    return text


def _after_door(text: str) -> str:
    """What follows a door number, less its 号 (or the 号院 of a courtyard behind the door)."""
    return text.removeprefix("号院").removeprefix("号")


def parse(address: str, lexicon: Lexicon, *, normalised: bool = False) -> ParsedAddress:
    """Components of ``address`` (normalised first unless ``normalised``)."""
    text = address if normalised else normalise(address)
    parsed = ParsedAddress(text=text)
    body = _peel_admin(text, lexicon, parsed)
    parsed.admin_length = len(text) - len(body)
    body = _peel_tail(body, parsed)
    body = _peel_road(body, lexicon, parsed)
    if parsed.group is None and (m := re.search(r"(?P<group>\d+)组(?:(?P<door>\d+)号?)?$", body)):
        # 某村3组15号 after a village name: the group and its door
        parsed.group, body = m["group"], body[: m.start()]
        parsed.door = parsed.door or m["door"]
    if parsed.road is None and parsed.glued and (m := _ROAD_ONLY.match(body)):
        parsed.road, body = m["road"], ""
    if parsed.glued and parsed.road is not None and parsed.door is None and not body:
        # "154-2-202" after a road: door, unit, room of a standalone house.
        parsed.door, parsed.building = parsed.building, None
    compound = strip_compound_suffix(body)
    parsed.compound = compound if compound and compound not in FILLER else None
    return parsed
