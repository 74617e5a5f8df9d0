"""Match an address against the standard-address table: exact, then component-wise, then fuzzy,
with a confidence score and the level the answer is good for.

How an answer is found. The address is normalised and parsed into components; each component
that names something (compound, road) is looked up exactly (names, documented aliases, old road
names, distinctive short names), else fuzzily. Every place those look-ups reach is a hypothesis
(a building of a compound, a compound, a door plate, a standalone building behind a door plate, a
road, a community) and collects evidence, in log-odds-like points:

* how well the name matched (exact 3, short name 2.5, homophone 2, other one-character edit
  0.75 ...);
* whether the rest of the address agrees: the building number exists in that compound, the road
  and door number are the compound's gate, the district/street/community named contain it.
  Disagreement costs points, weighted by how specific the evidence is: a contradicting district
  costs more than a contradicting community, which people often get wrong (wrong_community in
  the demo) and which loses against a compound name plus building number;
* a building number or door number that does not exist costs a lot: it is how a plausible
  address that does not exist (a door number past the road's end) shows itself.

The best hypothesis wins; a close second one costs it the margin (ambiguity is not confidence).
The score is a logistic function of the points relative to the level's threshold, so 0.5 is the
acceptance line at every level. A look-alike of a real name with no supporting context (a
compound one character from a real one, in another district) stays below it.

Old road names. Standard-address tables rarely list them (the schema has no column for them),
so the matcher learns them: when a compound is matched confidently, the address's road name is
unknown and its door number is the compound's gate number, that is a vote for "this name is an
old name of the gate's road". `match_many` adopts a name after `MIN_VOTES` votes for one road
(one name may belong to several roads) and matches again the rows it could not accept or
answered without knowing the road. Until then, an unknown road with a door number is looked up
by that number inside the community (or street) the address names, at lower confidence.

A matcher is not thread-safe (it caches answers and learns); use one per worker.

Why rapidfuzz rather than pg_trgm: the table fits in memory, the roster does not need a round
trip per row, and trigrams of two- to four-character Chinese names are too few to rank typos;
Levenshtein distance with a pinyin check on the differing characters ranks them well.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from geoplatform.errors import ConfigurationError
from geoplatform.geocode.gazetteer import Community, Compound, Gazetteer, Place, Road
from geoplatform.geocode.parse import ParsedAddress, parse
from geoplatform.geocode.pinyin import sounds_alike
from geoplatform.geocode.result import Candidate, GeocodeResult

LEVELS = ("building", "compound", "door", "road", "community", "none")

#: Evidence points each level needs for a score of 0.5 (accepted).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "building": 3.5,
    "compound": 2.75,
    "door": 3.0,
    "road": 2.5,
    "community": 3.0,
}

# Name evidence.
EXACT = 3.0
ALIAS = 3.0
SHORT_NAME = 2.5
SHARED_SHORT_NAME = 2.0  # a short name a few compounds share: the context must decide
OLD_ROAD_NAME = 2.75
HOMOPHONE = 2.0  # one character replaced by one that sounds alike
HOMOPHONE_2 = 1.5
ONE_EDIT = 0.75  # one character changed, not to one that sounds alike
TWO_EDITS = 0.5
ROAD_FACTOR = 2.0 / 3.0  # a road name alone says less than a compound name
UNRESOLVED_NAME = -1.0  # the address names a compound that is not the one the rest points at
# Context evidence.
BUILDING_FOUND = 1.0
BUILDING_MISSING = -2.5
GATE_ROAD = 1.0
GATE_DOOR = 0.5
OTHER_DOOR = -0.5
OTHER_ROAD = -1.5
DOOR_FOUND = 2.0
DOOR_MISSING = -2.5
DOOR_IN_COMMUNITY = 2.5  # unknown road name, but the door number exists in the named community
DOOR_IN_STREET = 2.0
ADMIN_AGREES = 0.5
ADMIN_CONTRADICTS = {"district": -2.0, "street": -1.5, "community": -0.5}
AMBIGUITY_MARGIN = 1.5  # a rival this close costs the winner the difference: a tie is refused
#: Confident matches that must agree before an unknown road name is taken as an old name.
MIN_VOTES = 2
SCORE_SLOPE = 1.5


@dataclass
class _Hypothesis:
    level: str
    points: float
    place: Place | None = None
    compound: Compound | None = None
    road: Road | None = None
    community: Community | None = None

    def target(self) -> tuple[str, int]:
        """What the hypothesis points at: the same target reached twice keeps its best points."""
        if self.compound is not None and self.level == "compound":
            return ("compound", self.compound.uid)
        if self.place is not None:
            return (self.level, self.place.index)
        if self.road is not None:
            return ("road", id(self.road))
        return ("community", id(self.community))


def name_evidence(query: str, name: str) -> float | None:
    """Points for ``query`` naming ``name``: homophone substitutions and small edits count,
    relative to the name's length (two edits in a three-character name is another name)."""
    if query == name:
        return EXACT
    if len(query) == len(name):
        differing = [(a, b) for a, b in zip(query, name, strict=True) if a != b]
        if len(differing) <= max(1, len(name) // 3) and all(
            sounds_alike(a, b) for a, b in differing
        ):
            return HOMOPHONE if len(differing) == 1 else HOMOPHONE_2
    distance = Levenshtein.distance(query, name, score_cutoff=2)
    if distance == 1 and len(name) >= 4:
        return ONE_EDIT
    if distance == 2 and len(name) >= 6:
        return TWO_EDITS
    return None


_EMPTY: frozenset[str] = frozenset()


class _Context:
    """The admin codes the address names, per level."""

    __slots__ = ("community", "district", "street")

    def __init__(self, parsed: ParsedAddress) -> None:
        admin = parsed.admin
        self.district = parsed.codes("district") if "district" in admin else _EMPTY
        self.street = parsed.codes("street") if "street" in admin else _EMPTY
        self.community = parsed.codes("community") if "community" in admin else _EMPTY

    def without(self, parsed: ParsedAddress, level: str) -> _Context:
        """This context less the short-form names of ``level`` (they were part of a name).

        Only district, street and community are evidence; a province or city short name
        (青海 in 青海亚居小区) leaves the context as it is.
        """
        if level not in _Context.__slots__:
            return self
        context = _Context(parsed)
        codes = {t.code for t in parsed.admin.get(level, ()) if not t.short and t.code}
        setattr(context, level, codes)
        return context

    def evidence(self, district: str | None, street: str | None, community: str | None) -> float:
        points = 0.0
        for level, named, code in (
            ("district", self.district, district),
            ("street", self.street, street),
            ("community", self.community, community),
        ):
            if named and code is not None:
                points += ADMIN_AGREES if code in named else ADMIN_CONTRADICTS[level]
        return points

    def evidence_any(self, districts: set[str], streets: set[str], communities: set[str]) -> float:
        """Like `evidence` for something spanning several areas (a road): agreeing with any."""
        points = 0.0
        for level, named, codes in (
            ("district", self.district, districts),
            ("street", self.street, streets),
            ("community", self.community, communities),
        ):
            if named and codes:
                points += ADMIN_AGREES if named & codes else ADMIN_CONTRADICTS[level]
        return points


class Matcher:
    """Geocoder over an in-memory standard-address table (see the module docstring)."""

    def __init__(
        self,
        gazetteer: Gazetteer,
        *,
        thresholds: Mapping[str, float] | None = None,
        top_k: int = 5,
        cache_size: int = 200_000,
    ) -> None:
        self.gazetteer = gazetteer
        self.thresholds = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
        self.top_k = top_k
        self._cache: OrderedDict[str, GeocodeResult] = OrderedDict()
        self._cache_size = cache_size
        self._votes: dict[str, Counter[str]] = {}
        self._learned: dict[str, list[str]] = {}
        self._unsure: set[str] = set()  # queries answered without knowing their road name
        self._compound_memo: dict[str, list[tuple[Compound, float]]] = {}
        self._road_memo: dict[str, list[tuple[Road, float]]] = {}

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_frame(cls, frame: Any, *, crs: str | None = None, **options: Any) -> Matcher:
        """Build from a data frame of the standard-address table (see `frames.rows_from_frame`)."""
        from geoplatform.geocode.frames import rows_from_frame

        return cls(Gazetteer(rows_from_frame(frame, crs=crs)), **options)

    @classmethod
    def from_connection(cls, connection: Any, **options: Any) -> Matcher:
        """Build from the `standard_addresses` table (names from `admin_areas`)."""
        from geoplatform.geocode.frames import count_standard_addresses, rows_from_connection

        if count_standard_addresses(connection) == 0:
            raise ConfigurationError(
                "the standard_addresses table is empty: load the standard addresses first "
                "(the ETL's standard-address source) before geocoding"
            )
        return cls(Gazetteer(rows_from_connection(connection)), **options)

    # -- matching ---------------------------------------------------------------------------

    def match_many(self, addresses: Sequence[str]) -> list[GeocodeResult]:
        """`match` for each address, in order; then, if the batch taught the matcher old road
        names (see `learned_road_names`), the rows it could not accept are matched again."""
        self._unsure.clear()
        results = [self.match(address) for address in addresses]
        unsure = set(self._unsure)
        if self._learn_road_names():
            results = [
                self.match(r.query) if not r.accepted or r.normalized in unsure else r
                for r in results
            ]
        return results

    @property
    def learned_road_names(self) -> dict[str, list[str]]:
        """Old road names learned from confident matches (old → current names)."""
        return {old: list(current) for old, current in self._learned.items()}

    def _vote_road_name(
        self, parsed: ParsedAddress, roads: list[tuple[Road, float]], top: _Hypothesis
    ) -> None:
        """A confident compound match whose road is unknown but whose door number is the
        compound's gate number says the unknown name is another name of the gate's road."""
        compound = top.compound
        if compound is None or parsed.road is None or parsed.door is None:
            return
        if any(r.name == road for r, _ in roads for road, _ in compound.doors):
            return  # the road is already known as the gate's road
        gate_roads = {road for road, door in compound.doors if door == parsed.door}
        if len(gate_roads) == 1:
            self._votes.setdefault(parsed.road, Counter())[next(iter(gate_roads))] += 1

    def _learn_road_names(self) -> bool:
        """Adopt an unknown road name as an old name of every road it was voted for at least
        `MIN_VOTES` times (old names were reused: several roads may share one)."""
        learned = False
        for name, votes in list(self._votes.items()):
            for current, count in votes.items():
                if count >= MIN_VOTES and self.gazetteer.add_road_alias(name, current):
                    self._learned.setdefault(name, []).append(current)
                    learned = True
        if learned:
            self._cache.clear()
            self._road_memo.clear()
            self._unsure.clear()
        return learned

    def match(self, address: str) -> GeocodeResult:
        """The best place ``address`` names, its level, score and the top candidates."""
        cached = self._cache.get(address)
        if cached is not None:
            return cached
        result = self._match(address)
        self._cache[address] = result
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return result

    def parse(self, address: str) -> ParsedAddress:
        """The components the matcher reads from ``address``."""
        return parse(address, self.gazetteer.lexicon)

    def _match(self, address: str) -> GeocodeResult:
        parsed = self.parse(address or "")
        context = _Context(parsed)
        roads = self._roads(parsed.road) if parsed.road else []
        hypotheses = self._hypotheses(parsed, context, roads)
        best: dict[tuple[str, int], _Hypothesis] = {}
        for hypothesis in hypotheses:
            key = hypothesis.target()
            if key not in best or best[key].points < hypothesis.points:
                best[key] = hypothesis
        ranked = sorted(best.values(), key=lambda h: -h.points)
        if not ranked:
            return GeocodeResult(address, "none", 0.0, False, normalized=parsed.text)
        top = ranked[0]
        points = top.points
        if len(ranked) > 1 and not _nested(top, ranked[1]):
            points -= max(0.0, AMBIGUITY_MARGIN - (top.points - ranked[1].points))
        candidates = [self._candidate(h, h.points) for h in ranked[: self.top_k]]
        chosen = self._candidate(top, points)
        if chosen.score >= 0.5:
            self._vote_road_name(parsed, roads, top)
        candidates[0] = chosen
        return GeocodeResult(
            query=address,
            level=chosen.level,
            score=chosen.score,
            accepted=chosen.score >= 0.5,
            standard_address_id=chosen.standard_address_id,
            address_key=chosen.address_key,
            building_id=chosen.building_id,
            building_key=chosen.building_key,
            community_code=chosen.community_code,
            lon=chosen.lon,
            lat=chosen.lat,
            candidates=candidates,
            normalized=parsed.text,
        )

    def _score(self, level: str, points: float) -> float:
        return 1.0 / (1.0 + math.exp(-SCORE_SLOPE * (points - self.thresholds[level])))

    def _candidate(self, hypothesis: _Hypothesis, points: float) -> Candidate:
        score = round(self._score(hypothesis.level, points), 4)
        place = hypothesis.place
        if place is not None:
            return Candidate(
                place.address,
                hypothesis.level,
                score,
                place.id,
                place.key,
                place.building_id,
                place.building_key,
                place.community_code,
                place.lon,
                place.lat,
            )
        if hypothesis.compound is not None:
            c = hypothesis.compound
            return Candidate(
                c.name, "compound", score, community_code=c.community_code, lon=c.lon, lat=c.lat
            )
        if hypothesis.road is not None:
            return Candidate(hypothesis.road.name, "road", score)
        community = hypothesis.community
        assert community is not None
        return Candidate(
            community.name,
            "community",
            score,
            community_code=community.code,
            lon=community.lon,
            lat=community.lat,
        )

    # -- hypotheses -------------------------------------------------------------------------

    def _hypotheses(
        self, parsed: ParsedAddress, context: _Context, roads: list[tuple[Road, float]]
    ) -> list[_Hypothesis]:
        compounds = self._compounds(parsed.compound) if parsed.compound else []
        if not compounds and parsed.compound and parsed.short_prefix is not None:
            # 乌达旷务局… read as 乌达(区) + 旷务局…: try the short admin name as part of the name
            prefix, level = parsed.short_prefix
            compounds = self._compounds(prefix + parsed.compound)
            if compounds:
                context = context.without(parsed, level)
        hypotheses: list[_Hypothesis] = []
        for compound, name_points in compounds:
            hypotheses.append(self._via_compound(compound, name_points, parsed, context, roads))
        named = {c.uid for c, _ in compounds}
        for road, road_points in roads:
            hypotheses.extend(self._via_road(road, road_points, parsed, context, named))
        door = parsed.door
        known = any(points >= OLD_ROAD_NAME * ROAD_FACTOR for _, points in roads)
        if parsed.road and door and not known and not any(door in r.doors for r, _ in roads):
            self._unsure.add(parsed.text)
            hypotheses.extend(self._via_area(parsed, context, named))
        if not hypotheses and parsed.compound is None and parsed.road is None:
            hypotheses.extend(self._via_community(parsed, context))
        return hypotheses

    def _compounds(self, name: str) -> list[tuple[Compound, float]]:
        """Compounds ``name`` may mean, with name evidence (memoised: names repeat)."""
        found = self._compound_memo.get(name)
        if found is None:
            found = self._compound_memo[name] = self._find_compounds(name)
        return found

    def _find_compounds(self, name: str) -> list[tuple[Compound, float]]:
        gazetteer = self.gazetteer
        hits, derived = gazetteer.compounds_named(name)
        if hits:
            points = EXACT if not derived else SHORT_NAME if len(hits) == 1 else SHARED_SHORT_NAME
            return [(c, points) for c in hits]
        found: list[tuple[Compound, float]] = []
        for choice, _, _ in process.extract(
            name, gazetteer.compound_choices, scorer=Levenshtein.distance, score_cutoff=2, limit=8
        ):
            evidence = name_evidence(name, choice)
            if evidence is not None:
                found.extend((c, evidence) for c in gazetteer.compound_names[choice])
        return found

    def _roads(self, name: str) -> list[tuple[Road, float]]:
        """Roads ``name`` may mean, with name evidence (memoised: names repeat)."""
        found = self._road_memo.get(name)
        if found is None:
            found = self._road_memo[name] = self._find_roads(name)
        return found

    def _find_roads(self, name: str) -> list[tuple[Road, float]]:
        gazetteer = self.gazetteer
        roads, by_old_name = gazetteer.roads_named(name)
        if roads:
            points = (OLD_ROAD_NAME if by_old_name else EXACT) * ROAD_FACTOR
            return [(road, points) for road in roads]
        found: list[tuple[Road, float]] = []
        for choice, _, _ in process.extract(
            name, gazetteer.road_choices, scorer=Levenshtein.distance, score_cutoff=1, limit=8
        ):
            evidence = name_evidence(name, choice)
            if evidence is not None:
                found.extend(
                    (road, evidence * ROAD_FACTOR) for road in gazetteer.roads_named(choice)[0]
                )
        return found

    def _via_compound(
        self,
        compound: Compound,
        name_points: float,
        parsed: ParsedAddress,
        context: _Context,
        roads: list[tuple[Road, float]],
    ) -> _Hypothesis:
        points = name_points + context.evidence(
            compound.district_code, compound.street_code, compound.community_code
        )
        if parsed.road is not None:
            on_gate = [
                (r, p) for r, p in roads if any(r.name == road for road, _ in compound.doors)
            ]
            if on_gate:
                road, road_points = max(on_gate, key=lambda item: item[1])
                points += GATE_ROAD * road_points / (EXACT * ROAD_FACTOR)
                if parsed.door is not None:
                    points += (
                        GATE_DOOR if (road.name, parsed.door) in compound.doors else OTHER_DOOR
                    )
            elif roads:
                points += OTHER_ROAD * max(p for _, p in roads) / (EXACT * ROAD_FACTOR)
        if parsed.building is None:
            return _Hypothesis("compound", points, place=compound.gate, compound=compound)
        building = compound.buildings.get(parsed.building)
        if building is None:
            return _Hypothesis(
                "compound", points + BUILDING_MISSING, place=compound.gate, compound=compound
            )
        return _Hypothesis("building", points + BUILDING_FOUND, place=building, compound=compound)

    def _via_road(
        self,
        road: Road,
        road_points: float,
        parsed: ParsedAddress,
        context: _Context,
        named: set[int],
    ) -> list[_Hypothesis]:
        if parsed.door is None:
            points = road_points + context.evidence_any(
                road.district_codes, road.street_codes, road.community_codes
            )
            if parsed.compound is not None or parsed.building is not None:
                points += UNRESOLVED_NAME
            return [_Hypothesis("road", points, road=road)]
        places = road.doors.get(parsed.door)
        if not places:
            return [_Hypothesis("road", road_points + DOOR_MISSING, road=road)]
        found: list[_Hypothesis] = []
        for place in places:
            self._behind_door(place, road_points + DOOR_FOUND, parsed, context, named, found)
        return found

    def _via_area(
        self, parsed: ParsedAddress, context: _Context, named: set[int]
    ) -> list[_Hypothesis]:
        """A road name nobody knows (an old name the table does not list) with a door number:
        the door plates with that number inside the most specific area the address names."""
        assert parsed.door is not None
        gazetteer = self.gazetteer
        found: list[_Hypothesis] = []
        for codes, index, points in (
            (context.community, gazetteer.doors_by_community, DOOR_IN_COMMUNITY),
            (context.street, gazetteer.doors_by_street, DOOR_IN_STREET),
        ):
            if codes:
                for code in codes:
                    for place in index.get((code, parsed.door), ()):
                        self._behind_door(place, points, parsed, context, named, found)
                return found
        return found

    def _behind_door(
        self,
        place: Place,
        points: float,
        parsed: ParsedAddress,
        context: _Context,
        named: set[int],
        found: list[_Hypothesis],
    ) -> None:
        """Hypotheses for what stands behind a door plate: a compound's gate (and the building
        the address numbers inside it), a standalone building, or just the door."""
        points += context.evidence(place.district_code, place.street_code, place.community_code)
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
                    points += UNRESOLVED_NAME
            if parsed.building is None:
                found.append(_Hypothesis(level, points, place=place, compound=compound))
                return
            building = compound.buildings.get(parsed.building)
            if building is None:
                found.append(_Hypothesis("door", points + BUILDING_MISSING, place=place))
            else:
                found.append(_Hypothesis("building", points + BUILDING_FOUND, place=building))
            return
        if parsed.compound is not None or parsed.building is not None:
            points += UNRESOLVED_NAME
        level = "building" if place.building_key or place.building_id else "door"
        found.append(_Hypothesis(level, points, place=place))

    def _via_community(self, parsed: ParsedAddress, context: _Context) -> list[_Hypothesis]:
        found = []
        for code in context.community:
            community = self.gazetteer.communities.get(code)
            if community is None:
                continue
            points = EXACT + context.evidence(community.district_code, community.street_code, None)
            found.append(_Hypothesis("community", points, community=community))
        return found


def _part_of(part: str, name: str) -> bool:
    """True when ``part`` (two characters or more) begins or ends ``name``."""
    return len(part) >= 2 and (name.startswith(part) or name.endswith(part))


def _nested(top: _Hypothesis, other: _Hypothesis) -> bool:
    """True when ``other`` is the same place at a coarser level (not a rival)."""
    if top.compound is not None and other.compound is top.compound:
        return True
    if top.place is not None and other.road is not None:
        return top.place.road == other.road.name
    return False
