"""The places an address may mean, each with its evidence: the search half of the matcher.

Every element the parser found that names something (compound, road + door, village group,
community) is looked up; every place those look-ups reach is a `Hypothesis` (a building of a
compound, a compound, a door plate, a standalone building behind a door plate, a road, a
community) that collects points (see `scoring`). Two verdicts travel with a hypothesis:

* ``reason``: the address names something that does not exist (a building number the compound
  does not have, a door past the road's last door, a compound name one character off a real
  one). Such a hypothesis is capped below its level's line: it goes to review with its reason,
  it is never accepted as if found at a coarser level;
* ``contradiction``: a stated admin level does not contain the place, but the rest of the
  address is specific enough to resolve it (the stated community or street is wrong; a stated
  district when a road + door or a finer stated level agrees with the place, or when the
  compound's name is the only one of its kind in the city). A name several compounds share
  never moves an address out of the district it states: the stated district's compound wins,
  and the others are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from geoplatform.geocode import scoring as sc
from geoplatform.geocode.gazetteer import Community, Compound, Gazetteer, Place, Road
from geoplatform.geocode.parse import ParsedAddress
from geoplatform.geocode.scoring import Context, describe_contradiction, name_evidence

#: Generic compound words a roster adds to a name (金泰城小区, 华泰花园家园).
COMPOUND_SUFFIXES = ("小区", "花园", "家园", "新村", "公寓", "社区", "苑", "园", "院")


@dataclass(slots=True)
class Hypothesis:
    level: str
    points: float
    place: Place | None = None
    compound: Compound | None = None
    road: Road | None = None
    community: Community | None = None
    reason: str | None = None
    contradiction: str | None = None
    point: tuple[float, float] | None = None  # a computed position (intersection, landmark)
    label: str | None = None
    target_key: Any = None

    def target(self) -> tuple[str, Any]:
        """What the hypothesis points at: the same target reached twice keeps its best points."""
        if self.target_key is not None:
            return (self.level, self.target_key)
        if self.compound is not None and self.level == "compound":
            return ("compound", self.compound.uid)
        if self.place is not None:
            return (self.level, self.place.index)
        if self.road is not None:
            return ("road", id(self.road))
        return ("community", id(self.community))


Named = list[tuple[Compound, float]]
Roads = list[tuple[Road, float]]


class Search:
    """Look-ups over one gazetteer, memoised per name (names repeat across a roster)."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        self._compound_memo: dict[str, tuple[Named, bool]] = {}
        self._road_memo: dict[str, Roads] = {}
        self._gate_roads: dict[int, set[str]] = {}

    def clear(self) -> None:
        self._compound_memo.clear()
        self._road_memo.clear()

    # -- names ------------------------------------------------------------------------------

    def compounds(self, name: str) -> tuple[Named, bool]:
        """Compounds ``name`` may mean with name evidence; the flag: by a derived short name."""
        found = self._compound_memo.get(name)
        if found is None:
            found = self._compound_memo[name] = self._find_compounds(name)
        return found

    def _find_compounds(self, name: str) -> tuple[Named, bool]:
        gazetteer = self.gazetteer
        hits, derived = gazetteer.compounds_named(name)
        if hits:
            return [(c, sc.EXACT if not derived else sc.SHORT_NAME) for c in hits], derived
        for suffix in COMPOUND_SUFFIXES:  # name + a generic word: 金泰城小区, 华泰花园家园
            stem = name.removesuffix(suffix)
            if stem != name and len(stem) >= 2 and stem in gazetteer.compound_names:
                return [(c, sc.DERIVED_ALIAS) for c in gazetteer.compound_names[stem]], False
        for cut in range(2, min(5, len(name) - 1)):  # developer + name: 万科银城华府
            rest = name[cut:]
            if len(rest) >= 3 and rest in gazetteer.compound_names:
                return [(c, sc.DERIVED_ALIAS) for c in gazetteer.compound_names[rest]], False
        found: Named = []
        for choice, _, _ in process.extract(
            name, gazetteer.compound_choices, scorer=Levenshtein.distance, score_cutoff=2, limit=8
        ):
            evidence = name_evidence(name, choice)
            if evidence is not None:
                found.extend((c, evidence) for c in gazetteer.compound_names[choice])
        return found, False

    def roads(self, name: str) -> Roads:
        """Roads ``name`` may mean, with name evidence."""
        found = self._road_memo.get(name)
        if found is None:
            found = self._road_memo[name] = self._find_roads(name)
        return found

    def _find_roads(self, name: str) -> Roads:
        gazetteer = self.gazetteer
        roads, by_old_name = gazetteer.roads_named(name)
        if roads:
            points = (sc.OLD_ROAD_NAME if by_old_name else sc.EXACT) * sc.ROAD_FACTOR
            return [(road, points) for road in roads]
        found: Roads = []
        for choice, _, _ in process.extract(
            name, gazetteer.road_choices, scorer=Levenshtein.distance, score_cutoff=1, limit=8
        ):
            evidence = name_evidence(name, choice, road=True)
            if evidence is not None:
                found.extend(
                    (road, evidence * sc.ROAD_FACTOR) for road in gazetteer.roads_named(choice)[0]
                )
        return found

    # -- hypotheses -------------------------------------------------------------------------

    def in_area(self, named: Named, derived: bool, context: Context) -> Named:
        """Derived short names count only where unique in the area the address names (the
        community, else the street, else the district, else the city)."""
        if not derived:
            return named
        area = context.most_specific()
        local = named
        if area is not None:
            level, codes = area
            local = [(c, p) for c, p in named if getattr(c, f"{level}_code") in codes] or named
        if len(local) == 1:
            return [(local[0][0], sc.SHORT_NAME)]
        return [(c, sc.SHARED_SHORT_NAME) for c, _ in local]

    def via_compound(
        self,
        compound: Compound,
        name_points: float,
        parsed: ParsedAddress,
        context: Context,
        roads: Roads,
    ) -> Hypothesis:
        admin_points, wrong, right = context.assess(
            compound.district_code, compound.street_code, compound.community_code
        )
        points = name_points + admin_points
        gate_confirmed = False
        if parsed.road is not None:
            gate_roads = self._gate_roads.get(compound.uid)
            if gate_roads is None:
                gate_roads = self._gate_roads[compound.uid] = {r for r, _ in compound.doors}
            on_gate = [(r, p) for r, p in roads if r.name in gate_roads]
            if on_gate:
                road, road_points = max(on_gate, key=lambda item: item[1])
                points += sc.GATE_ROAD * road_points / (sc.EXACT * sc.ROAD_FACTOR)
                if parsed.door is not None:
                    gate_confirmed = (road.name, parsed.door) in compound.doors
                    points += sc.GATE_DOOR if gate_confirmed else sc.OTHER_DOOR
            elif roads:
                points += sc.OTHER_ROAD * max(p for _, p in roads) / (sc.EXACT * sc.ROAD_FACTOR)
        reason = None
        if name_points <= sc.ONE_EDIT and not gate_confirmed:
            reason = f"no compound named {parsed.compound}: one character off {compound.name}"
        unique = (
            "district" in wrong
            and name_points >= sc.SHORT_NAME
            and len(self.gazetteer.compound_names.get(compound.name, ())) == 1
        )
        if unique or ("district" in wrong and gate_confirmed):
            # the only compound of that name in the city, or its own gate's road and door:
            # the stated district is the slip
            points += sc.UNIQUE_ACROSS_DISTRICTS
        contradiction, refusal = _judge_admin(
            wrong, right, compound.name, backed=gate_confirmed or unique
        )
        reason = reason or refusal
        if parsed.building is None:
            return Hypothesis(
                "compound",
                points,
                place=compound.gate,
                compound=compound,
                reason=reason,
                contradiction=contradiction,
            )
        building = compound.buildings.get(parsed.building)
        if building is None:
            if compound.buildings and reason is None:
                reason = f"{compound.name} has no building {parsed.building}" + _highest(compound)
            return Hypothesis(
                "compound",
                points + sc.BUILDING_MISSING,
                place=compound.gate,
                compound=compound,
                reason=reason,
                contradiction=contradiction,
            )
        return Hypothesis(
            "building",
            points + sc.BUILDING_FOUND,
            place=building,
            compound=compound,
            reason=reason,
            contradiction=contradiction,
        )

    def via_road(
        self,
        road: Road,
        road_points: float,
        parsed: ParsedAddress,
        context: Context,
        named: set[int],
        unique_fuzzy: bool,
    ) -> list[Hypothesis]:
        point = None
        if parsed.door is None:
            points = road_points + context.evidence_any(
                road.district_codes, road.street_codes, road.community_codes
            )
            if parsed.compound is not None or parsed.building is not None:
                points += sc.UNRESOLVED_NAME
            return [Hypothesis("road", points, road=road, point=point)]
        places = road.doors.get(parsed.door)
        if not places:
            last = road.last_door
            door = int(parsed.door) if parsed.door.isdigit() else None
            if door is not None and last is not None and door > last:
                reason = f"door {door} is past the last door ({last}) of {road.name}"
            else:
                reason = f"{road.name} has no door plate {parsed.door}"
            return [Hypothesis("road", road_points + sc.DOOR_MISSING, road=road, reason=reason)]
        found: list[Hypothesis] = []
        bonus = sc.UNIQUE_FUZZY_ROAD if unique_fuzzy else 0.0
        for place in places:
            self.behind_door(
                place, road_points + sc.DOOR_FOUND + bonus, parsed, context, named, found
            )
        return found

    def via_area(
        self, parsed: ParsedAddress, context: Context, named: set[int]
    ) -> list[Hypothesis]:
        """A road name nobody knows (an old name the table does not list) or a village group,
        with a door number: the door plates with that number inside the most specific area the
        address names."""
        assert parsed.door is not None
        gazetteer = self.gazetteer
        found: list[Hypothesis] = []
        for codes, index, points in (
            (context.community, gazetteer.doors_by_community, sc.DOOR_IN_COMMUNITY),
            (context.street, gazetteer.doors_by_street, sc.DOOR_IN_STREET),
        ):
            if codes:
                for code in codes:
                    places = index.get((code, parsed.door), ())
                    bonus = 0.0
                    if parsed.group is not None:
                        grouped = [p for p in places if _in_group(p, parsed.group)]
                        if grouped:
                            places, bonus = grouped, sc.GROUP_FOUND
                    for place in places:
                        self.behind_door(place, points + bonus, parsed, context, named, found)
                return found
        return found

    def behind_door(
        self,
        place: Place,
        points: float,
        parsed: ParsedAddress,
        context: Context,
        named: set[int],
        found: list[Hypothesis],
    ) -> None:
        """Hypotheses for what stands behind a door plate: a compound's gate (and the building
        the address numbers inside it), a standalone building, or just the door."""
        admin_points, wrong, right = context.assess(
            place.district_code, place.street_code, place.community_code
        )
        points += admin_points
        contradiction, reason = _judge_admin(
            wrong,
            right,
            place.address or f"{place.road}{place.door}号",
            backed=parsed.road is not None,
        )
        wrong_district = "district" in wrong
        if reason is None and wrong_district and parsed.road is not None:
            road = self.gazetteer.roads.get(place.road or "")
            if road is not None and context.district & road.district_codes:
                # the road also runs through the stated district: its door is missing there
                reason = f"{road.name} has no door {parsed.door} in the stated district"
            elif road is not None:
                # the road runs only elsewhere: road + door is the unique locator
                points += sc.UNIQUE_ACROSS_DISTRICTS
        compound = self.gazetteer.gate_of.get(place.index)
        if compound is not None:
            if compound.uid in named:
                return  # the compound path already weighed this gate
            level = "door"
            if parsed.compound is not None:
                # a part of the gate's compound name (丽景 for 丽景新村), confirmed by the door
                # plate, names that compound; anything else is a name the door contradicts
                if _part_of(parsed.compound, compound.name):
                    level = "compound"
                else:
                    points += sc.UNRESOLVED_NAME
            if parsed.building is None:
                found.append(
                    Hypothesis(
                        level,
                        points,
                        place=place,
                        compound=compound,
                        reason=reason,
                        contradiction=contradiction,
                    )
                )
                return
            building = compound.buildings.get(parsed.building)
            if building is None:
                missing = reason or (
                    f"{compound.name} has no building {parsed.building}" + _highest(compound)
                    if compound.buildings
                    else None
                )
                found.append(
                    Hypothesis(
                        "door",
                        points + sc.BUILDING_MISSING,
                        place=place,
                        reason=missing,
                        contradiction=contradiction,
                    )
                )
            else:
                found.append(
                    Hypothesis(
                        "building",
                        points + sc.BUILDING_FOUND,
                        place=building,
                        compound=compound,
                        reason=reason,
                        contradiction=contradiction,
                    )
                )
            return
        if parsed.compound is not None or parsed.building is not None:
            points += sc.UNRESOLVED_NAME
        level = "building" if place.building_key or place.building_id else "door"
        found.append(
            Hypothesis(level, points, place=place, reason=reason, contradiction=contradiction)
        )

    def via_community(self, parsed: ParsedAddress, context: Context) -> list[Hypothesis]:
        found = []
        for code in context.community:
            community = self.gazetteer.communities.get(code)
            if community is None:
                continue
            points = sc.EXACT + context.evidence(
                community.district_code, community.street_code, None
            )
            found.append(Hypothesis("community", points, community=community))
        return found


def _judge_admin(
    wrong: list[str], right: list[str], what: str, *, backed: bool
) -> tuple[str | None, str | None]:
    """(contradiction note, refusal reason) for a place the stated admin levels ``wrong`` do
    not contain; see the module docstring for when a contradiction is resolved."""
    if not wrong:
        return None, None
    note = describe_contradiction(wrong, what)
    if "district" in wrong and not backed and not [lv for lv in right if lv != "district"]:
        return None, f"{what} is not in the district the address states"
    return note, None


def _highest(compound: Compound) -> str:
    numbers = [int(b) for b in compound.buildings if b.isdigit()]
    return f" (highest {max(numbers)})" if numbers else ""


def _in_group(place: Place, group: str) -> bool:
    """True when a village door plate belongs to group ``group`` (its road or address says so)."""
    marker = f"{group}组"
    return marker in (place.road or "") or marker in place.address


def _part_of(part: str, name: str) -> bool:
    """True when ``part`` (two characters or more) begins or ends ``name``."""
    return len(part) >= 2 and (name.startswith(part) or name.endswith(part))


def nested(top: Hypothesis, other: Hypothesis) -> bool:
    """True when ``other`` is the same place at a coarser level (not a rival)."""
    if top.compound is not None and other.compound is top.compound:
        return True
    if top.place is not None and other.road is not None:
        return top.place.road == other.road.name
    return False
