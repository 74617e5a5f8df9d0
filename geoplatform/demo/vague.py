"""Hotline locations that name no address: an intersection (computed from the road lines), a
landmark (a POI, by its name or a colloquial one) or a compound ("某小区里面"), each with the true
point the caller meant: the crossing, the landmark's gate, the compound's buildings' centre.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from geoplatform.demo.addresses import AddressBook
from geoplatform.demo.gazetteer_files import Landmark
from geoplatform.demo.roads import RoadNetwork

INTERSECTION_WORDS = ("交叉口", "交汇处", "路口", "十字路口")
JOINERS = ("与", "和", "、", "与")
LANDMARK_WORDS = ("门口", "附近", "旁边", "对面", "大门口", "")
COMPOUND_WORDS = ("里面", "内", "小区里", "院内")
#: how far a caller's "at the crossing / at the gate" spot lies from the exact point (metres)
SPREAD = 6.0


@dataclass
class VaguePlace:
    kind: str  # intersection, landmark, compound
    texts: list[str]
    x: float
    y: float
    expected: str = ""  # the compound's gate door plate for compound rows


@dataclass
class VaguePool:
    places: dict[str, list[VaguePlace]] = field(default_factory=dict)

    def draw(
        self, kind: str, rng: np.random.Generator, count: int
    ) -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
        """``count`` texts of ``kind`` with their true points (metric) and expected ids."""
        pool = self.places.get(kind, [])
        if not pool or count == 0:
            return [], np.zeros(0), np.zeros(0), []
        chosen = rng.integers(0, len(pool), count)
        texts, xs, ys, expected = [], [], [], []
        for index in chosen.tolist():
            place = pool[index]
            texts.append(place.texts[int(rng.integers(len(place.texts)))])
            xs.append(place.x)
            ys.append(place.y)
            expected.append(place.expected)
        noise = rng.normal(0, SPREAD / 2, (2, count))
        return texts, np.array(xs) + noise[0], np.array(ys) + noise[1], expected


def build_pool(roads: RoadNetwork, book: AddressBook, landmarks: list[Landmark]) -> VaguePool:
    pool = VaguePool()
    urban = [i for i, kind in enumerate(roads.kinds) if kind == "urban"]
    lines = np.array([roads.lines[i] for i in urban], dtype=object)
    tree = shapely.STRtree(lines)
    left, right = tree.query(lines, predicate="intersects")
    crossings = []
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a >= b:
            continue
        point = shapely.intersection(lines[a], lines[b])
        if not isinstance(point, shapely.Point):
            continue
        name_a, name_b = roads.names[urban[a]], roads.names[urban[b]]
        texts = [
            f"{x}{joiner}{y}{word}"
            for (x, y) in ((name_a, name_b), (name_b, name_a))
            for joiner, word in zip(JOINERS, INTERSECTION_WORDS, strict=True)
        ]
        crossings.append(VaguePlace("intersection", texts, point.x, point.y))
    pool.places["intersection"] = crossings
    pool.places["landmark"] = [
        VaguePlace(
            "landmark",
            [f"{name}{word}" for name in [item.name, *item.aliases] for word in LANDMARK_WORDS],
            item.x,
            item.y,
        )
        for item in landmarks
        if item.kind in ("school", "hospital", "market")
    ]
    compounds: dict[int, list[int]] = {}
    for index, compound in enumerate(book.compound.tolist()):
        if compound >= 0:
            compounds.setdefault(compound, []).append(index)
    places = []
    for members in compounds.values():
        name = str(book.compound_name[members[0]])
        places.append(
            VaguePlace(
                "compound",
                [f"{name}{word}" for word in COMPOUND_WORDS],
                float(np.mean(book.x[members])),
                float(np.mean(book.y[members])),
                str(book.compound_address_id[members[0]]),
            )
        )
    pool.places["compound"] = places
    return pool
