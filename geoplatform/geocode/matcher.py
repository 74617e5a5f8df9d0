"""Match an address against the gazetteer: parse it by the element grammar, look each element
up, weigh the places reached, and answer with a level, a score, and — when the address names
something that does not exist or contradicts itself — a reason or a contradiction note.

How an answer is found. The address is normalised and parsed into elements (`parse`); each
element that names something (compound, road + door, village group, community) is looked up
exactly (names, published and learned aliases, old road names, derived short names unique in
the stated area), else fuzzily (same-pinyin slips, one-character typos); every place reached is
a hypothesis collecting evidence points (`hypotheses`, `scoring`). A vague hotline location
(an intersection, a landmark, "inside a compound") is read by `vague` and weighed on the same
scale. The best hypothesis wins; a close rival costs it the margin (a tie is refused). A
hypothesis with a ``reason`` (building number above the compound's highest, door past the
road's last door, a compound name one character off) is capped below the line: it goes to
review with that reason, never accepted at a coarser level as if found.

Old road names the table does not list are learned: a confident compound match whose unknown
road name comes with the compound's gate number votes for "this is an old name of the gate's
road"; `match_many` adopts a name after `MIN_VOTES` votes and rematches what it could not
accept.

A matcher is not thread-safe (it caches answers and learns); use one per worker. Answers are
memoised per distinct address, so a roster that repeats addresses costs one match per address.

Why rapidfuzz rather than pg_trgm: the gazetteer fits in memory, the roster does not need a
round trip per row, and trigrams of two- to four-character Chinese names are too few to rank
typos; Levenshtein distance with a pinyin check on the differing characters ranks them well.
"""

from __future__ import annotations

import re
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from geoplatform.errors import ConfigurationError
from geoplatform.geocode import scoring as sc
from geoplatform.geocode.gazetteer import Gazetteer, Road
from geoplatform.geocode.hypotheses import Hypothesis, Search, nested
from geoplatform.geocode.normalise import drop_remarks, has_remark, normalise, strip_remarks
from geoplatform.geocode.parse import ParsedAddress, parse
from geoplatform.geocode.result import Candidate, GeocodeResult
from geoplatform.geocode.roads import midpoint
from geoplatform.geocode.scoring import DEFAULT_THRESHOLDS, LEVELS, Context
from geoplatform.geocode.vague import Vague, might_be_vague, parse_vague, resolve

__all__ = ["DEFAULT_THRESHOLDS", "LEVELS", "MIN_VOTES", "Matcher"]

#: Confident matches that must agree before an unknown road name is taken as an old name.
MIN_VOTES = 2
#: A numbered building (3号楼, 十二栋, A座) followed only by unit, floor and room, in that order
#: (2单元401室, 2-401, 5楼502): what the answer never depends on.
_N = "[0-9０-９零〇一二两三四五六七八九十百壹贰叁肆伍陆柒捌玖拾]+"
_SEP = "[-－—–_ ]*"
_ROOM_TAIL = re.compile(
    rf"(?<=[0-9０-９A-Za-zＡ-Ｚ零〇一二两三四五六七八九十百壹贰叁肆伍陆柒捌玖拾])"
    rf"(?:栋|幢|座|号楼|號樓|棟|#楼|＃楼|#樓|#|＃)(?P<tail>(?=.){_SEP}(?:{_N}(?:单元|單元|单|門|门){_SEP})?"
    rf"(?:{_N}(?:层|楼|層|樓){_SEP})?(?:{_N}(?:[-－—–_]{_N})*(?:室|户|號|号|戶)?)?)$"
)


class Matcher:
    """Geocoder over an in-memory gazetteer (see the module docstring)."""

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
        self.search = Search(gazetteer)
        #: Answers by parsed elements (see `_match`), with the road-name vote and unsure flag.
        self._elements: dict[tuple[Any, ...], tuple[GeocodeResult, tuple[str, str] | None, bool]]
        self._elements = {}
        #: Answers by the text up to a building marker (see `match`).
        self._prefixes: dict[str, tuple[GeocodeResult, tuple[str, str] | None, bool, str]] = {}
        self._vote: tuple[str, str] | None = None

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_frame(cls, frame: Any, *, crs: str | None = None, **options: Any) -> Matcher:
        """Build from a data frame of the standard-address table (see `frames.rows_from_frame`)."""
        from geoplatform.geocode.frames import rows_from_frame

        return cls(Gazetteer(rows_from_frame(frame, crs=crs)), **options)

    @classmethod
    def from_connection(cls, connection: Any, **options: Any) -> Matcher:
        """Build from the gazetteer's tables: `standard_addresses` (names from `admin_areas`),
        `roads`, `compound_aliases` (published and learned) and `landmarks`."""
        from geoplatform.geocode.frames import (
            aliases_from_connection,
            count_standard_addresses,
            landmarks_from_connection,
            roads_from_connection,
            rows_from_connection,
        )

        if count_standard_addresses(connection) == 0:
            raise ConfigurationError(
                "the standard_addresses table is empty: load the standard addresses first "
                "(the ETL's standard-address source) before geocoding"
            )
        gazetteer = Gazetteer(
            rows_from_connection(connection),
            roads=roads_from_connection(connection),
            aliases=aliases_from_connection(connection),
            landmarks=landmarks_from_connection(connection),
        )
        return cls(gazetteer, **options)

    def add_alias(self, alias: str, compound_uid: int, *, origin: str = "learned") -> bool:
        """Teach the matcher that ``alias`` names compound ``compound_uid`` (a person's answer
        in review); forgets the answers it memoised, which the alias may change."""
        added = self.gazetteer.add_alias(alias, compound_uid, origin=origin)
        if added:
            self._cache.clear()
            self._elements.clear()
            self._prefixes.clear()
            self.search.clear()
        return added

    # -- matching ---------------------------------------------------------------------------

    def match_many(self, addresses: Sequence[str]) -> list[GeocodeResult]:
        """`match` for each address, in order; then, if the batch taught the matcher old road
        names (see `learned_road_names`), the rows it could not accept are matched again."""
        self._unsure.clear()
        match = self.match
        results = [match(address) for address in addresses]
        unsure = set(self._unsure)
        if self._learn_road_names():
            results = [
                match(r.query) if not r.accepted or r.normalized in unsure else r for r in results
            ]
        return results

    @property
    def learned_road_names(self) -> dict[str, list[str]]:
        """Old road names learned from confident matches (old → current names)."""
        return {old: list(current) for old, current in self._learned.items()}

    def _vote_road_name(
        self, parsed: ParsedAddress, roads: list[tuple[Road, float]], top: Hypothesis
    ) -> None:
        compound = top.compound
        if compound is None or parsed.road is None or parsed.door is None:
            return
        if any(r.name == road for r, _ in roads for road, _ in compound.doors):
            return  # the road is already known as the gate's road
        gate_roads = {road for road, door in compound.doors if door == parsed.door}
        if len(gate_roads) == 1:
            self._vote = (parsed.road, next(iter(gate_roads)))
            self._votes.setdefault(parsed.road, Counter())[self._vote[1]] += 1

    def _learn_road_names(self) -> bool:
        learned = False
        for name, votes in list(self._votes.items()):
            for current, count in votes.items():
                if count >= MIN_VOTES and self.gazetteer.add_road_alias(name, current):
                    self._learned.setdefault(name, []).append(current)
                    learned = True
        if learned:
            self._cache.clear()
            self._elements.clear()
            self._prefixes.clear()
            self.search.clear()
            self._unsure.clear()
        return learned

    def match(self, address: str) -> GeocodeResult:
        """The best place ``address`` names, its level, score and the top candidates."""
        cached = self._cache.get(address)
        if cached is not None:
            return cached
        address = address or ""
        if has_remark(address):
            # brackets hold remarks (二楼, 东门, 租户, 旁边是超市) far more often than elements:
            # read the address without those naming no element first, then as written
            result = self._match_plain(drop_remarks(address))
            if not result.accepted:
                for other in (address, strip_remarks(address)):
                    again = self._match_plain(other)
                    if again.accepted or again.score > result.score:
                        result = again
                    if result.accepted:
                        break
            result = _requery(result, address, result.normalized)
        else:
            result = self._match_plain(address)
        self._cache[address] = result
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return result

    def _match_plain(self, address: str) -> GeocodeResult:
        """`match` without the remark handling: through the building-prefix memo."""
        tail = _ROOM_TAIL.search(address) if address else None
        text: str | None = None
        if tail is not None:
            # rows of one building differ only by unit and room, which place nothing: the
            # part up to the building marker decides, so it is answered once
            prefix = address[: tail.start("tail")]
            known = self._prefixes.get(prefix)
            text = normalise(tail.group("tail"))
            if known is not None:
                result, vote, unsure, normalised_prefix = known
                text = normalised_prefix + text
                if unsure:
                    self._unsure.add(text)
                if vote is not None:
                    self._votes.setdefault(vote[0], Counter())[vote[1]] += 1
                return _requery(result, address, text)
            normalised_prefix = normalise(prefix)
            text = normalised_prefix + text
        self._vote = None
        unsure_before = len(self._unsure)
        result = self._match(address, text)
        if tail is not None:
            unsure = len(self._unsure) > unsure_before
            self._prefixes[prefix] = (result, self._vote, unsure, normalised_prefix)
            if len(self._prefixes) > self._cache_size:
                self._prefixes.pop(next(iter(self._prefixes)))
        return result

    def parse(self, address: str) -> ParsedAddress:
        """The elements the matcher reads from ``address``."""
        return parse(address, self.gazetteer.lexicon)

    def _match(self, address: str, text: str | None = None) -> GeocodeResult:
        """Normalise (unless ``text`` is the normal form) and parse, then answer from the
        element memo when an address with the same elements (all but unit, floor and room,
        which place nothing) was answered."""
        text = normalise(address) if text is None else text
        parsed = parse(text, self.gazetteer.lexicon, normalised=True)
        key = _element_key(parsed, text)
        known = self._elements.get(key)
        if known is not None:
            result, vote, unsure = known
            if unsure:
                self._unsure.add(text)
            if vote is not None:
                self._votes.setdefault(vote[0], Counter())[vote[1]] += 1
                self._vote = vote
            return _requery(result, address, text)
        vote_before, self._vote = self._vote, None
        unsure_before = text in self._unsure
        result = self._answer(address, text, parsed)
        self._elements[key] = (result, self._vote, text in self._unsure and not unsure_before)
        self._vote = self._vote or vote_before
        if len(self._elements) > self._cache_size:
            self._elements.pop(next(iter(self._elements)))
        return result

    def _answer(self, address: str, text: str, parsed: ParsedAddress) -> GeocodeResult:
        context = Context(parsed)
        roads = self.search.roads(parsed.road) if parsed.road else []
        hypotheses = self._hypotheses(parsed, context, roads)
        body = text[parsed.admin_length :]
        if might_be_vague(body):
            for reading in parse_vague(body, self.gazetteer.lexicon):
                hypotheses.extend(resolve(reading, self.search, context))
        if not hypotheses and self.gazetteer.landmarks.named(body):
            # a landmark named bare (一中, 中心医院): where the caller is
            hypotheses.extend(resolve(Vague("named", body), self.search, context))
        best: dict[tuple[str, Any], Hypothesis] = {}
        for hypothesis in hypotheses:
            if hypothesis.reason is not None:
                cap = self.thresholds[hypothesis.level] - sc.REFUSED_BELOW
                hypothesis.points = min(hypothesis.points, cap)
            key = hypothesis.target()
            if key not in best or best[key].points < hypothesis.points:
                best[key] = hypothesis
        ranked = sorted(best.values(), key=lambda h: -(h.points - self.thresholds[h.level]))
        if not ranked:
            return GeocodeResult(
                address,
                "none",
                0.0,
                False,
                normalized=text,
                reason="names no known compound, road, landmark or area",
            )
        top = ranked[0]
        margin = top.points - self.thresholds[top.level]
        points = top.points
        reason = top.reason
        if len(ranked) > 1 and not nested(top, ranked[1]):
            gap = margin - (ranked[1].points - self.thresholds[ranked[1].level])
            if gap < sc.AMBIGUITY_MARGIN:
                points -= sc.AMBIGUITY_MARGIN - gap
                if reason is None and points < self.thresholds[top.level]:
                    reason = f"ambiguous: {self._label(top)} or {self._label(ranked[1])}"
        candidates = [self._candidate(h, h.points) for h in ranked[: self.top_k]]
        chosen = self._candidate(top, points)
        accepted = chosen.score >= 0.5
        if accepted:
            self._vote_road_name(parsed, roads, top)
        candidates[0] = chosen
        return GeocodeResult(
            query=address,
            level=chosen.level,
            score=chosen.score,
            accepted=accepted,
            standard_address_id=chosen.standard_address_id,
            address_key=chosen.address_key,
            building_id=chosen.building_id,
            building_key=chosen.building_key,
            community_code=chosen.community_code,
            lon=chosen.lon,
            lat=chosen.lat,
            candidates=candidates,
            normalized=text,
            reason=None if accepted else reason,
            contradiction=top.contradiction,
        )

    def _hypotheses(
        self, parsed: ParsedAddress, context: Context, roads: list[tuple[Road, float]]
    ) -> list[Hypothesis]:
        search = self.search
        named, derived = search.compounds(parsed.compound) if parsed.compound else ([], False)
        if not named and parsed.compound and parsed.short_prefix is not None:
            # 乌达旷务局… read as 乌达(区) + 旷务局…: try the short admin name as part of the name
            prefix, level = parsed.short_prefix
            named, derived = search.compounds(prefix + parsed.compound)
            if named:
                context = context.without(parsed, level)
        named = search.in_area(named, derived, context)
        hypotheses = [
            search.via_compound(compound, points, parsed, context, roads)
            for compound, points in named
        ]
        uids = {c.uid for c, _ in named}
        door = parsed.door
        fuzzy_with_door = [
            r for r, p in roads if p < sc.OLD_ROAD_NAME * sc.ROAD_FACTOR and door in r.doors
        ]
        unique_fuzzy = len(fuzzy_with_door) == 1
        for road, road_points in roads:
            hypotheses.extend(
                search.via_road(road, road_points, parsed, context, uids, unique_fuzzy)
            )
        known = any(points >= sc.OLD_ROAD_NAME * sc.ROAD_FACTOR for _, points in roads)
        if door and not known and not any(door in r.doors for r, _ in roads):
            if parsed.road:
                self._unsure.add(parsed.text)
            if parsed.road or parsed.group:
                hypotheses.extend(search.via_area(parsed, context, uids))
        if not hypotheses and parsed.compound is None and parsed.road is None:
            hypotheses.extend(search.via_community(parsed, context))
        return hypotheses

    def _label(self, hypothesis: Hypothesis) -> str:
        if hypothesis.label:
            return hypothesis.label
        if hypothesis.place is not None and hypothesis.level != "compound":
            return hypothesis.place.address
        if hypothesis.compound is not None:
            return hypothesis.compound.name
        if hypothesis.road is not None:
            return hypothesis.road.name
        return hypothesis.community.name if hypothesis.community else "?"

    def _candidate(self, hypothesis: Hypothesis, points: float) -> Candidate:
        level = hypothesis.level
        score = round(sc.score(points, self.thresholds[level]), 4)
        place = hypothesis.place
        if hypothesis.point is not None:
            lon, lat = hypothesis.point
            compound = hypothesis.compound
            return Candidate(
                self._label(hypothesis),
                level,
                score,
                place.id if place else None,
                place.key if place else None,
                community_code=compound.community_code if compound else None,
                lon=lon,
                lat=lat,
            )
        if place is not None:
            return Candidate(
                place.address,
                level,
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
            gate = c.gate
            return Candidate(
                c.name,
                "compound",
                score,
                gate.id if gate else None,
                gate.key if gate else None,
                community_code=c.community_code,
                lon=c.lon,
                lat=c.lat,
            )
        if hypothesis.label is not None and hypothesis.community is None:
            return Candidate(hypothesis.label, level, score)
        if hypothesis.road is not None:
            middle = midpoint(hypothesis.road.geometry)
            return Candidate(
                hypothesis.road.name,
                "road",
                score,
                lon=middle[0] if middle else None,
                lat=middle[1] if middle else None,
            )
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


def _with_query(result: GeocodeResult, query: str) -> GeocodeResult:
    return replace(result, query=query)


def _requery(result: GeocodeResult, query: str, normalized: str) -> GeocodeResult:
    """``result`` for another query with the same answer (built field by field:
    `dataclasses.replace` and `copy.copy` of a slotted dataclass cost several times more)."""
    r = result
    return GeocodeResult(
        query,
        r.level,
        r.score,
        r.accepted,
        r.standard_address_id,
        r.address_key,
        r.building_id,
        r.building_key,
        r.community_code,
        r.lon,
        r.lat,
        r.candidates,
        normalized,
        r.reason,
        r.contradiction,
    )


def _element_key(parsed: ParsedAddress, text: str) -> tuple[Any, ...]:
    """What an answer depends on: the admin tokens, road, door, compound, building, group
    (and the whole text when it may be a vague location, whose markers the elements drop)."""
    return (
        text[: parsed.admin_length],  # the admin chain as written decides its tokens
        parsed.road,
        parsed.door,
        parsed.compound,
        parsed.building,
        parsed.group,
        parsed.short_prefix,
        text if might_be_vague(text) else None,
    )
