"""Evidence points and scores: how well a name matched, and what the admin areas an address
names say about a place.

Points are log-odds-like: each piece of evidence adds or costs points, and a level's score is a
logistic function of its points relative to the level's threshold (0.5 is the acceptance line
at every level). Keeping the constants here, apart from the search, lets the rules be read and
tuned in one place.
"""

from __future__ import annotations

import math

from rapidfuzz.distance import Levenshtein

from geoplatform.geocode.parse import ParsedAddress
from geoplatform.geocode.pinyin import sounds_alike

LEVELS = (
    "building",
    "door",
    "compound",
    "road",
    "intersection",
    "landmark",
    "community",
    "none",
)

#: Evidence points each level needs for a score of 0.5 (accepted).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "building": 3.5,
    "compound": 2.75,
    "door": 3.0,
    "road": 2.5,
    "intersection": 2.5,
    "landmark": 2.5,
    "community": 3.0,
}

# Name evidence.
EXACT = 3.0
ALIAS = 3.0
DERIVED_ALIAS = 2.75  # developer + name, name + a generic compound suffix
SHORT_NAME = 2.5  # a derived short name, unique in the area the address names
SHARED_SHORT_NAME = 2.0  # a short name several compounds of the area share: the rest decides
OLD_ROAD_NAME = 2.75
HOMOPHONE = 2.0  # one character replaced by one that sounds alike
HOMOPHONE_2 = 1.5
GROUP_FOUND = 1.0  # a village door plate in the group (组) the address names
ONE_EDIT = 0.75  # one character changed, not to one that sounds alike
TWO_EDITS = 0.5
ROAD_FACTOR = 2.0 / 3.0  # a road name alone says less than a compound name
UNRESOLVED_NAME = -1.0  # the address names a compound that is not the one the rest points at
UNIQUE_FUZZY_ROAD = 1.0  # the only look-alike road that has the door number
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
#: Given back when the contradicted district's compound is the only one of its name in the
#: city (the rest of the address is unique): the slip then costs as little as a community's.
UNIQUE_ACROSS_DISTRICTS = 1.5
AMBIGUITY_MARGIN = 1.5  # a rival this close costs the winner the difference: a tie is refused
REFUSED_BELOW = 2.0  # a refused hypothesis keeps at most threshold - this many points
SCORE_SLOPE = 1.5
_LEVEL_NAMES = {"district": "区县", "street": "街道", "community": "社区"}


def name_evidence(query: str, name: str, *, road: bool = False) -> float | None:
    """Points for ``query`` naming ``name``: homophone substitutions and small edits count,
    relative to the name's length (two edits in a three-character name is another name).

    A road name of three characters (人民路) may carry a one-character typo in its stem: the
    door number and the area then decide (see the matcher); a compound's may not.
    """
    if query == name:
        return EXACT
    if len(query) == len(name):
        differing = [(a, b) for a, b in zip(query, name, strict=True) if a != b]
        if len(differing) <= max(1, len(name) // 3) and all(
            sounds_alike(a, b) for a, b in differing
        ):
            return HOMOPHONE if len(differing) == 1 else HOMOPHONE_2
    distance = Levenshtein.distance(query, name, score_cutoff=2)
    if distance == 1 and (len(name) >= 4 or (road and len(name) >= 3 and query[-1] == name[-1])):
        return ONE_EDIT
    if distance == 2 and len(name) >= 6:
        return TWO_EDITS
    return None


def score(points: float, threshold: float) -> float:
    """The logistic score of ``points`` against a level's ``threshold`` (0.5 at the line)."""
    return 1.0 / (1.0 + math.exp(-SCORE_SLOPE * (points - threshold)))


_EMPTY: frozenset[str] = frozenset()
_NO_LEVELS: list[str] = []


class Context:
    """The admin codes the address names, per level."""

    __slots__ = ("community", "district", "empty", "street")

    def __init__(self, parsed: ParsedAddress) -> None:
        admin = parsed.admin
        self.district = parsed.codes("district") if "district" in admin else _EMPTY
        self.street = parsed.codes("street") if "street" in admin else _EMPTY
        self.community = parsed.codes("community") if "community" in admin else _EMPTY
        self.empty = not (self.district or self.street or self.community)

    def without(self, parsed: ParsedAddress, level: str) -> Context:
        """This context less the short-form names of ``level`` (they were part of a name).

        Only district, street and community are evidence; a province or city short name
        (青海 in 青海亚居小区) leaves the context as it is.
        """
        if level not in ("community", "district", "street"):
            return self
        context = Context(parsed)
        codes = {t.code for t in parsed.admin.get(level, ()) if not t.short and t.code}
        setattr(context, level, codes)
        context.empty = not (context.district or context.street or context.community)
        return context

    def evidence(self, district: str | None, street: str | None, community: str | None) -> float:
        if self.empty:
            return 0.0
        points = 0.0
        for level, named, code in (
            ("district", self.district, district),
            ("street", self.street, street),
            ("community", self.community, community),
        ):
            if named and code is not None:
                points += ADMIN_AGREES if code in named else ADMIN_CONTRADICTS[level]
        return points

    def assess(
        self, district: str | None, street: str | None, community: str | None
    ) -> tuple[float, list[str], list[str]]:
        """`evidence`, `contradicted` and `agreed` in one pass (the matcher's hot path)."""
        if self.empty:
            return 0.0, _NO_LEVELS, _NO_LEVELS
        points = 0.0
        wrong: list[str] = []
        right: list[str] = []
        for level, named, code in (
            ("district", self.district, district),
            ("street", self.street, street),
            ("community", self.community, community),
        ):
            if named and code is not None:
                if code in named:
                    points += ADMIN_AGREES
                    right.append(level)
                else:
                    points += ADMIN_CONTRADICTS[level]
                    wrong.append(level)
        return points, wrong, right

    def contradicted(
        self, district: str | None, street: str | None, community: str | None
    ) -> list[str]:
        """The levels the address names that do not contain the place (coarsest first)."""
        if self.empty:
            return []
        return [
            level
            for level, named, code in (
                ("district", self.district, district),
                ("street", self.street, street),
                ("community", self.community, community),
            )
            if named and code is not None and code not in named
        ]

    def agreed(self, district: str | None, street: str | None, community: str | None) -> list[str]:
        """The levels the address names that contain the place."""
        return [
            level
            for level, named, code in (
                ("district", self.district, district),
                ("street", self.street, street),
                ("community", self.community, community),
            )
            if named and code is not None and code in named
        ]

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

    def most_specific(self) -> tuple[str, frozenset[str] | set[str]] | None:
        """The finest admin level the address names, with its codes."""
        for level in ("community", "street", "district"):
            codes = getattr(self, level)
            if codes:
                return level, codes
        return None


def describe_contradiction(levels: list[str], what: str) -> str:
    """A note for the result: which stated levels do not contain what was matched."""
    names = "、".join(_LEVEL_NAMES[level] for level in levels)
    return f"stated {'/'.join(levels)} ({names}) does not contain {what}"
