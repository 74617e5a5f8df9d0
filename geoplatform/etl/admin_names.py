"""Admin names → codes: a delivery that names its district, street and community in words.

Departments' tables often say 南湖区 / 新兴街道 / 东栅社区 where the platform keys on 12-digit
codes. The names resolve against the admin areas already loaded (this run's reference sources
come first), each inside the area resolved above it, so two communities called 新村社区 in two
streets are told apart by the street. Official suffix variants are one name (街道办事处 = 街道,
社区居民委员会 = 社区居委会 = 社区, 村民委员会 = 村委会 = 村), and a name without its level
suffix (南湖 for 南湖区) is accepted when it is unique where it is looked up. A name that
matches nothing, or several areas, is a reject with its reason: never a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from geoplatform.etl.entities import Entity
from geoplatform.etl.normalise import Batch
from geoplatform.etl.rejects import Rejects

UNKNOWN_ADMIN_NAME: Final = "unknown_admin_name"
AMBIGUOUS_ADMIN_NAME: Final = "ambiguous_admin_name"

#: Official long forms → the short form people write (longest first).
_LONG_FORMS: Final = (
    ("街道办事处", "街道"),
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("居民委员会", "社区"),
    ("居委会", "社区"),
    ("村民委员会", "村"),
    ("村委会", "村"),
    ("镇人民政府", "镇"),
    ("乡人民政府", "乡"),
    ("人民政府", ""),
    ("办事处", ""),
)
#: Level suffixes a name may be written without (海勃湾 for 海勃湾区).
_LEVEL_SUFFIXES: Final = {
    "city": ("市", "地区", "盟", "州"),
    "district": ("区", "县", "市", "旗"),
    "street": ("街道", "镇", "乡", "苏木"),
    "community": ("社区", "村", "嘎查", "居委会"),
}
_SPACE: Final = re.compile(r"[\s\u3000·•]+")
_PARENT_LEVEL: Final = {"street": "district", "community": "street"}


def canonical(name: str) -> str:
    """One spelling of an admin name: NFKC, no spaces, official long forms shortened."""
    name = _SPACE.sub("", unicodedata.normalize("NFKC", name))
    for long, short in _LONG_FORMS:
        if name.endswith(long) and len(name) > len(long):
            return name[: -len(long)] + short
    return name


def short_form(name: str, level: str) -> str | None:
    """The name without its level suffix, when at least two characters remain."""
    for suffix in _LEVEL_SUFFIXES.get(level, ()):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


@dataclass(frozen=True)
class Area:
    code: str
    level: str
    name: str
    parent_code: str | None


@dataclass
class AdminNames:
    """The loaded admin areas by name and level."""

    areas: list[Area]
    _full: dict[tuple[str, str], list[Area]] = field(default_factory=dict, init=False)
    _short: dict[tuple[str, str], list[Area]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for area in self.areas:
            name = canonical(area.name)
            self._full.setdefault((area.level, name), []).append(area)
            short = short_form(name, area.level)
            if short is not None:
                self._short.setdefault((area.level, short), []).append(area)

    @classmethod
    def from_connection(cls, conn: Connection) -> AdminNames:
        rows = conn.execute(text("SELECT code, level, name, parent_code FROM admin_areas"))
        return cls([Area(str(c), str(lv), str(n), p) for c, lv, n, p in rows])

    def resolve(self, level: str, name: str, within: str | None) -> Resolution:
        """The one area of ``level`` that ``name`` names (inside the admin area coded
        ``within``, when given), or why there is none."""
        key = canonical(name)
        found: list[Area] = []
        for index, probe in ((self._full, key), (self._short, key)):
            found = [a for a in index.get((level, probe), ()) if _inside(a, within)]
            if not found and short_form(key, level) is not None:
                found = [
                    a
                    for a in index.get((level, short_form(key, level) or ""), ())
                    if _inside(a, within)
                ]
            if found:
                break
        place = f" in {within}" if within else ""
        if not found:
            return Resolution(
                None, UNKNOWN_ADMIN_NAME, f"{level} {name!r} is not a loaded admin area{place}"
            )
        if len(found) > 1:
            codes = ", ".join(sorted(a.code for a in found)[:5])
            why = f"{level} {name!r} names {len(found)} admin areas{place} ({codes})"
            return Resolution(None, AMBIGUOUS_ADMIN_NAME, why)
        return Resolution(found[0].code)


@dataclass(frozen=True)
class Resolution:
    """What an admin name resolved to: a code, or a reject reason code and its sentence."""

    code: str | None
    problem: str = ""
    why: str = ""


def _prefix_length(code: str) -> int:
    """Digits that identify an admin code's own area (its trailing zeros are unused levels)."""
    if code[4:] == "00000000":
        return 4
    if code[6:] == "000000":
        return 6
    if code[9:] == "000":
        return 9
    return 12


def _inside(area: Area, within: str | None) -> bool:
    """Whether ``area`` lies inside the admin area coded ``within`` (codes nest by prefix)."""
    if within is None:
        return True
    return area.code != within and area.code.startswith(within[: _prefix_length(within)])


def resolve_admin_names(batch: Batch, entity: Entity, names: AdminNames) -> Batch:
    """Fill the batch's admin codes from its admin names; rows whose names do not resolve
    leave as rejects (`unknown_admin_name`, `ambiguous_admin_name`)."""
    fields = [f for f in entity.admin_names if f.name in batch.frame]
    frame = batch.frame
    if not fields or frame.empty:
        return batch
    dead = np.zeros(len(frame), dtype=bool)
    problems: dict[int, Resolution] = {}
    memo: dict[tuple[str, str, str | None], Resolution] = {}
    for f in fields:
        assert f.resolves is not None
        level = f.name
        code_col = f.resolves
        parent_col = f"{_PARENT_LEVEL[level]}_code" if level in _PARENT_LEVEL else None
        codes = frame[code_col].to_numpy(dtype=object).copy()
        given = frame[f.name].to_numpy(dtype=object)
        parents = (
            frame[parent_col].to_numpy(dtype=object)
            if parent_col is not None and parent_col in frame
            else np.full(len(frame), None, dtype=object)
        )
        for i in np.flatnonzero(pd.isna(codes) & pd.notna(given) & ~dead):
            within = parents[i] if isinstance(parents[i], str) else None
            key = (level, str(given[i]), within)
            if key not in memo:
                memo[key] = names.resolve(level, str(given[i]), within)
            found = memo[key]
            if found.code is None:
                dead[i] = True
                problems[int(i)] = found
            else:
                codes[i] = found.code
        frame[code_col] = codes
    _complete_chain(frame)
    if dead.any():
        batch.rejects.extend(_rejects(frame, problems, [f.name for f in fields]))
        batch.frame = frame[~dead].reset_index(drop=True)
    return batch


def _complete_chain(frame: pd.DataFrame) -> None:
    """A community's code implies its street's and district's; a street's its district's."""
    for child, parent, keep in (
        ("community_code", "street_code", 9),
        ("street_code", "district_code", 6),
    ):
        if child in frame and parent in frame:
            inferred = frame[child].str[:keep] + "0" * (12 - keep)
            frame[parent] = frame[parent].where(frame[parent].notna(), inferred)


def _rejects(
    frame: pd.DataFrame, problems: dict[int, Resolution], columns: Iterable[str]
) -> Rejects:
    out = Rejects()
    cols = [c for c in columns if c in frame]
    rows = frame["_row"].to_numpy(dtype=np.int64)
    for i, problem in sorted(problems.items()):
        out.rows.append(int(rows[i]))
        key = frame["source_key"].iat[i]
        out.keys.append(key if isinstance(key, str) else None)
        out.codes.append(problem.problem)
        out.reasons.append(problem.why)
        data = {c: frame[c].iat[i] for c in cols}
        data["_file"] = frame["_file"].iat[i]
        out.data.append(data)
    return out
