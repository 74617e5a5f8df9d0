"""Landmarks (POIs: schools, hospitals, markets, parks) and the names people call them by.

Hotline callers locate a problem by a landmark ("一中门口", "中心医院对面"), rarely by its
official name (乌海市第一中学, 乌海市中心医院). The index holds every landmark under its
official name, its published aliases and the colloquial forms derived from the name:

* the name less a leading city/district name (乌海市中心医院 → 中心医院);
* ordinal schools shortened (第一中学 → 一中, 第三小学 → 三小, 第二人民医院 → 二院).

A derived form shared by several landmarks names none of them on its own (every district has
its 人民医院): the look-up returns them all and the caller decides by area or refuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from geoplatform.geocode.normalise import normalise_name

_ORDINAL_SCHOOL = re.compile(r"^(?:第)?([一二三四五六七八九十]{1,3})(中学|小学|中|小)$")
_ORDINAL_HOSPITAL = re.compile(r"^第([一二三四五六七八九十]{1,3})人民医院$")
_SPLIT = re.compile(r"[;；,，、|/]")


@dataclass(frozen=True, slots=True)
class Landmark:
    """One POI with its point and its admin chain (codes may be unknown)."""

    uid: int
    name: str
    kind: str | None
    lon: float
    lat: float
    community_code: str | None
    street_code: str | None
    district_code: str | None


def colloquial_forms(name: str, admin_prefixes: Iterable[str]) -> set[str]:
    """Short forms residents use for ``name`` (see the module docstring)."""
    forms = {name}
    for prefix in admin_prefixes:
        if name.startswith(prefix) and len(name) - len(prefix) >= 2:
            forms.add(name[len(prefix) :])
    for form in list(forms):
        if m := _ORDINAL_SCHOOL.match(form):
            kind = "中" if m[2].startswith("中") else "小"
            forms.update({m[1] + kind, "第" + m[1] + kind + "学", m[1] + kind + "学"})
        if m := _ORDINAL_HOSPITAL.match(form):
            forms.update({m[1] + "院", "第" + m[1] + "医院"})
    return {f for f in forms if len(f) >= 2}


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in _SPLIT.split(value) if v.strip()]
    return [str(v) for v in value if v]


class LandmarkIndex:
    """Landmarks by every name they are known by (official, published alias, colloquial)."""

    def __init__(
        self, rows: Iterable[Mapping[str, Any]], admin_prefixes: Iterable[str] = ()
    ) -> None:
        self.landmarks: list[Landmark] = []
        self.by_name: dict[str, list[Landmark]] = {}
        self.official: set[str] = set()
        prefixes = sorted(set(admin_prefixes), key=len, reverse=True)
        for row in rows:
            name = normalise_name(str(row.get("name") or ""))
            lon, lat = row.get("lon"), row.get("lat")
            if not name or lon is None or lat is None:
                continue
            landmark = Landmark(
                len(self.landmarks),
                name,
                row.get("kind"),
                float(lon),
                float(lat),
                row.get("community_code"),
                row.get("street_code"),
                row.get("district_code"),
            )
            self.landmarks.append(landmark)
            self.official.add(name)
            forms = colloquial_forms(name, prefixes)
            for alias in _names(row.get("aliases")):
                forms |= colloquial_forms(normalise_name(alias), prefixes)
            for form in forms:
                owners = self.by_name.setdefault(form, [])
                if landmark not in owners:
                    owners.append(landmark)

    def named(self, name: str) -> list[Landmark]:
        """Landmarks known by exactly ``name``."""
        return self.by_name.get(name, [])

    def __len__(self) -> int:
        return len(self.landmarks)
