"""What a generated demo city says about its planted hotspots, and the check that they were found.

Shared by the analytics tests that find hotspots in-process and through the API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h3
import pandas as pd

from geoplatform.analytics.hexagons import count_by_cell


def loaded_incidents(city: Path) -> pd.DataFrame:
    """The truth rows of the incidents the ETL loads (the planted bad rows left out)."""
    rows = pd.read_csv(city / "truth" / "incidents.csv", dtype={"grid_code": str})
    return rows[rows["reject_reason"].isna()].copy()


def planted_hotspots(city: Path) -> list[dict[str, Any]]:
    data = json.loads((city / "truth" / "hotspots.json").read_text(encoding="utf-8"))
    spots: list[dict[str, Any]] = data["hotspots"]
    return spots


def assert_planted_hotspots_found(city: Path, hot: set[int], resolution: int) -> None:
    """Every persistent hotspot's core cells meet `hot`, and at most 10% of `hot` lies farther
    than one ring from a planted core (false discoveries)."""
    incidents = loaded_incidents(city)
    planted: set[int] = set()
    for spot in planted_hotspots(city):
        if spot["kind"] != "persistent":
            continue
        rows = incidents[incidents["hotspot"] == spot["name"]]
        cells = count_by_cell(rows["lon"], rows["lat"], resolution)
        core = set(cells.index[cells >= 0.1 * cells.max()].tolist())
        assert core & hot, f"planted hotspot {spot['name']} not found"
        planted |= core
    near: set[int] = set()
    for cell in planted:
        near |= set(h3.api.basic_int.grid_disk(cell, 1))
    assert len(hot - near) / len(hot) <= 0.10
