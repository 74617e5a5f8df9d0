"""Vague hotline locations: an intersection, a landmark, or a compound, graded at their own level
rather than forced to a building.

* "A路与B路交叉口 / 交汇处 / 路口 / 十字路口" → where the two road lines meet (`roads.crossing`);
* "某中学门口 / 附近 / 旁边 / 对面" → the landmark's point (official, alias or colloquial name);
* "某小区里面 / 内 / 门口" → the compound: the centre of its buildings (its gate for 门口).

Each answer carries its own level (intersection, landmark, compound) and points on the same
scale as the grammar path's, so one threshold table decides. A name shared by several landmarks,
or two roads that never come near each other, is refused with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from geoplatform.geocode import scoring as sc
from geoplatform.geocode.hypotheses import Hypothesis, Search
from geoplatform.geocode.parse import ROAD_SUFFIXES, Lexicon, strip_compound_suffix
from geoplatform.geocode.roads import crossing
from geoplatform.geocode.scoring import Context

_CROSSING_MARKERS = (
    "十字路口",
    "丁字路口",
    "交叉路口",
    "交叉口",
    "交汇处",
    "交汇口",
    "交界处",
    "交界口",
    "交口",
    "路口",
    "口",
)
_CROSSING = re.compile("(" + "|".join(_CROSSING_MARKERS) + ")")
_CONNECTOR = re.compile(r"与|和|跟|同|及|交")
_NEAR_MARKERS = (
    "斜对面",
    "大门口",
    "校门口",
    "正门口",
    "东门口",
    "西门口",
    "南门口",
    "北门口",
    "门口",
    "门前",
    "大门",
    "正门",
    "后门",
    "东门",
    "西门",
    "南门",
    "北门",
    "附近",
    "旁边",
    "边上",
    "对面",
    "周边",
    "周围",
    "一带",
    "东侧",
    "西侧",
    "南侧",
    "北侧",
    "东边",
    "西边",
    "南边",
    "北边",
    "前面",
    "后面",
    "旁",
)
_INSIDE_MARKERS = ("里面", "里边", "院内", "内部", "院里", "内", "里")
_NEAR = re.compile("(" + "|".join(_NEAR_MARKERS + _INSIDE_MARKERS) + ")")
_GATE_MARKERS = frozenset(m for m in _NEAR_MARKERS if "门" in m)
_ROAD_END = re.compile("(" + "|".join(ROAD_SUFFIXES) + ")$")
_MULTI = sorted(
    [m for m in _CROSSING_MARKERS + _NEAR_MARKERS + _INSIDE_MARKERS if len(m) > 1],
    key=len,
    reverse=True,
)
_SINGLE = "".join(m for m in _CROSSING_MARKERS + _NEAR_MARKERS + _INSIDE_MARKERS if len(m) == 1)
#: Whether an address may be a vague location at all: a marker word, a one-character marker
#: at the end, or two roads joined by a connector (checked before any reading is tried, so
#: names holding 和, 里 or 前 — 和平路, 千里山, 前进街 — cost one search).
_GATE = re.compile(
    "|".join(_MULTI) + f"|[{_SINGLE}]$|(?:与|和|跟|同|及).*(?:{'|'.join(ROAD_SUFFIXES)})$"
)


def might_be_vague(text: str) -> bool:
    """True when ``text`` holds something `parse_vague` could read."""
    return _GATE.search(text) is not None


GAP_COST_PER_M = 1.0 / 100.0  # lines that stop short of each other: less sure of the junction
AMBIGUOUS_LANDMARK = -2.0


@dataclass(frozen=True)
class Vague:
    """A vague location: an intersection of two roads, or a place named with a relation."""

    kind: str  # "intersection" | "near" | "inside" | "named" (a landmark's bare name)
    first: str
    second: str | None = None
    marker: str = ""


def parse_vague(body: str, lexicon: Lexicon) -> list[Vague]:
    """The vague readings of ``body`` (the address less its admin chain), most specific first."""
    found: list[Vague] = []
    for m in _CROSSING.finditer(body):
        if len(m.group(1)) == 1 and m.end() != len(body):
            continue  # a bare 口 inside a name (港口路) is no junction
        before = body[: m.start()]
        for a, b in _road_pairs(before, lexicon, m.group(1)):
            found.append(Vague("intersection", a, b, m.group(1)))
        if found:
            break
    if not found and _CONNECTOR.search(body):  # "A路与B路" with no marker: still a junction
        for a, b in _road_pairs(body, lexicon, ""):
            if _ROAD_END.search(b):
                found.append(Vague("intersection", a, b))
    for m in _NEAR.finditer(body):
        if len(m.group(1)) == 1 and m.end() != len(body):
            continue  # 旁/内/里 inside a name (福寿里, 内蒙古) relate nothing
        name = body[: m.start()]
        if len(name) >= 2:
            kind = "inside" if m.group(1) in _INSIDE_MARKERS else "near"
            found.append(Vague(kind, name, marker=m.group(1)))
    return found


def _road_pairs(text: str, lexicon: Lexicon, marker: str) -> list[tuple[str, str]]:
    """Ways of reading ``text`` as two road names (A与B, A和B, or AB glued)."""
    pairs: list[tuple[str, str]] = []
    for m in _CONNECTOR.finditer(text):
        a, b = text[: m.start()], text[m.end() :]
        if len(a) >= 2 and len(b) >= 1:
            pairs.append((a, b))
    known = lexicon.road_at(text)
    if known is not None and len(text) > len(known) + 1:
        pairs.append((known, text[len(known) :]))
    for m in re.finditer("|".join(ROAD_SUFFIXES), text):
        a, b = text[: m.end()], text[m.end() :]
        if len(a) >= 2 and len(b) >= 2:
            pairs.append((a, b))
    if marker == "路口":  # 人民路与黄河路口: the 路 of the second road is the marker's
        pairs = [(a, b if _ROAD_END.search(b) else b + "路") for a, b in pairs]
    return list(dict.fromkeys(pairs))


def resolve(vague: Vague, search: Search, context: Context) -> list[Hypothesis]:
    """Hypotheses for one vague reading."""
    if vague.kind == "named":
        return _landmarks(vague.first, search, context)
    if vague.kind == "intersection":
        assert vague.second is not None
        return _intersection(vague.first, vague.second, search, context)
    found = _landmarks(vague.first, search, context)
    found.extend(_compound(vague, search, context))
    return found


def _intersection(a: str, b: str, search: Search, context: Context) -> list[Hypothesis]:
    found: list[Hypothesis] = []
    for road_a, points_a in search.roads(a):
        for road_b, points_b in search.roads(b):
            if road_a is road_b:
                continue
            meet = crossing(road_a.geometry, road_b.geometry)
            if meet is None:
                continue
            (lon, lat), gap = meet
            points = (points_a + points_b) / (2 * sc.ROAD_FACTOR) - gap * GAP_COST_PER_M
            points += context.evidence_any(
                road_a.district_codes | road_b.district_codes,
                road_a.street_codes | road_b.street_codes,
                road_a.community_codes | road_b.community_codes,
            )
            found.append(
                Hypothesis(
                    "intersection",
                    points,
                    point=(lon, lat),
                    label=f"{road_a.name}与{road_b.name}交叉口",
                    target_key=tuple(sorted((road_a.name, road_b.name))),
                )
            )
    if not found and search.roads(a) and search.roads(b):
        return [
            Hypothesis(
                "intersection",
                0.0,
                reason=f"{a} and {b} do not meet (or have no line in the road layer)",
                label=f"{a}与{b}",
                target_key=(a, b),
            )
        ]
    return found


def _landmarks(name: str, search: Search, context: Context) -> list[Hypothesis]:
    index = search.gazetteer.landmarks
    hits = index.named(name) or index.named(strip_compound_suffix(name))
    if not hits:
        return []
    area = context.most_specific()
    if area is not None and len(hits) > 1:
        level, codes = area
        local = [h for h in hits if getattr(h, f"{level}_code") in codes]
        hits = local or hits
    found = []
    for landmark in hits:
        points = sc.EXACT + context.evidence(
            landmark.district_code, landmark.street_code, landmark.community_code
        )
        reason = None
        if len(hits) > 1:
            points += AMBIGUOUS_LANDMARK
            reason = f"{len(hits)} landmarks are called {name}"
        found.append(
            Hypothesis(
                "landmark",
                points,
                point=(landmark.lon, landmark.lat),
                label=landmark.name,
                target_key=landmark.uid,
                reason=reason,
            )
        )
    return found


def _compound(vague: Vague, search: Search, context: Context) -> list[Hypothesis]:
    name = strip_compound_suffix(vague.first)
    named, derived = search.compounds(name)
    named = search.in_area(named, derived, context)
    found = []
    for compound, name_points in named:
        if name_points < sc.HOMOPHONE:
            continue
        points = name_points + context.evidence(
            compound.district_code, compound.street_code, compound.community_code
        )
        point = _centre(compound) if vague.marker not in _GATE_MARKERS else None
        if point is None and compound.lon is not None and compound.lat is not None:
            point = (compound.lon, compound.lat)
        found.append(
            Hypothesis(
                "compound",
                points,
                place=compound.gate,
                compound=compound,
                point=point,
                label=compound.name,
            )
        )
    return found


def _centre(compound: object) -> tuple[float, float] | None:
    """The centre of a compound's buildings (where "in the compound" is, better than its gate)."""
    buildings = [b for b in getattr(compound, "buildings", {}).values() if b.lon is not None]
    if not buildings:
        return None
    lon = sum(b.lon or 0.0 for b in buildings) / len(buildings)
    lat = sum(b.lat or 0.0 for b in buildings) / len(buildings)
    return (lon, lat)
