"""Issue 4's acceptance on the demo city (scale 0.02) and its ground truth.

One load of the generated city, then: every row accounted for per source; every planted bad
row rejected with the truth's reason and every other row loaded; delivered points (WGS84,
GCJ-02, BD-09, GK) within 1 m of the truth and in their true grid unless within 1 m of a grid
edge; residents matched to their true building at the truth's level; a rerun rewrites nothing
and a --full rerun finds every row unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.engine import Engine

from geoplatform.etl.pipeline import load_pipeline
from geoplatform.etl.runner import RunOptions, run_pipeline
from geoplatform.settings import Settings
from geoplatform.spatial.assign import distance_to_edges
from tests.conftest import DemoCities

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def demo_city(demo_cities: DemoCities) -> Path:
    return demo_cities(0.02, 4)


def _truth(city: Path, name: str) -> pd.DataFrame:
    frame = pd.read_csv(city / "truth" / f"{name}.csv", dtype=str, keep_default_na=False)
    frame["file"] = frame["file"].map(lambda f: Path(f).name)
    frame["row"] = frame["row"].astype(int)
    return frame


def _check_points(engine: Engine, truth: pd.DataFrame, table: str, key: str) -> None:
    """Delivered points within 1 m of the truth; in the true grid unless within 1 m of an edge."""
    with engine.connect() as conn:
        rows = pd.read_sql(
            text(f"SELECT source_key, ST_X(geom) AS x, ST_Y(geom) AS y, grid_code FROM {table}"),
            conn,
        )
        grids = conn.execute(text("SELECT ST_AsBinary(geom) FROM grids")).scalars().all()
    merged = truth.merge(rows, left_on=key, right_on="source_key", suffixes=("_truth", ""))
    assert len(merged) == len(truth)
    lon, lat = merged["lon"].astype(float).to_numpy(), merged["lat"].astype(float).to_numpy()
    metres = np.asarray(GEOD.inv(merged["x"].to_numpy(), merged["y"].to_numpy(), lon, lat)[2])
    assert metres.max() < 1.0, (table, metres.max())
    wrong = (merged["grid_code_truth"] != merged["grid_code"]).to_numpy()
    if wrong.any():
        polygons = shapely.from_wkb([bytes(g) for g in grids])
        assert distance_to_edges(lon[wrong], lat[wrong], polygons).max() < 1.0


@pytest.mark.slow
def test_demo_city_meets_the_acceptance(
    demo_city: Path, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, home=tmp_path, hmac_key="demo-key-0123456789")
    pipeline = load_pipeline(demo_city / "pipeline.yaml")
    first = run_pipeline(engine, pipeline, settings)
    assert first.status == "succeeded", [(s.name, s.error) for s in first.sources]
    for source in first.sources:
        assert source.balanced, (source.name, source.counts)
        assert source.counts["read"] > 0, source.name

    with engine.connect() as conn:
        rejects = pd.read_sql(
            text(
                "SELECT source, row_data->>'_file' AS file, row_number AS row, reason_code"
                " FROM etl.rejects WHERE run_id = :r"
            ),
            conn,
            params={"r": first.run_id},
        )
        loaded = {
            table: set(conn.execute(text(f"SELECT source_key FROM {table}")).scalars())
            for table in ("incidents", "organisations", "people", "devices")
        }

    # every planted bad row rejected with its reason, every other row loaded
    for name, key, table in (
        ("incidents", "source_key", "incidents"),
        ("organisations", "credit_code", "organisations"),
        ("people", "person_key", "people"),
    ):
        truth = _truth(demo_city, name)
        merged = truth.merge(rejects, on=["file", "row"], how="left")
        merged["reason_code"] = merged["reason_code"].fillna("")
        # a vague hotline location (某小区里面, 某中学门口) is graded, not forced: the matcher
        # may refuse one it cannot place (issue 11 asks >= 95% of them within 30 m)
        vague = merged["variants"].fillna("").str.contains("vague_").to_numpy()
        refused = vague & (merged["reason_code"] == "geocode_unmatched").to_numpy()
        assert refused.sum() <= 0.05 * max(1, vague.sum()), (name, refused.sum(), vague.sum())
        wrong = merged[(merged["reason_code"] != merged["reject_reason"]).to_numpy() & ~refused]
        columns = ["row", "variants", "reason_code", "reject_reason"]
        assert wrong.empty, (name, wrong.head(12)[columns].to_dict("records"))
        good = truth[(truth["reject_reason"] == "").to_numpy() & ~refused]
        assert set(good[key]) <= loaded[table], name
        assert len(merged) == len(truth)  # no row rejected twice

    incidents = _truth(demo_city, "incidents")
    placed = incidents[
        (incidents["reject_reason"] == "") & (incidents["has_coordinates"] == "True")
    ]
    _check_points(engine, placed, "incidents", "source_key")
    organisations = _truth(demo_city, "organisations")
    placed = organisations[
        (organisations["reject_reason"] == "") & (organisations["has_coordinates"] == "True")
    ]
    _check_points(engine, placed, "organisations", "credit_code")

    # residents: matched at the level the truth says they are resolvable to
    people = _truth(demo_city, "people")
    people = people[people["reject_reason"] == ""]
    with engine.connect() as conn:
        matched = pd.read_sql(
            text(
                "SELECT p.source_key, p.geocode_level, b.source_key AS building FROM people p"
                " LEFT JOIN buildings b ON b.id = p.building_id"
            ),
            conn,
        )
    m = people.merge(matched, left_on="person_key", right_on="source_key")
    assert len(m) == len(people)
    building = m[m["resolvable_level"] == "building"]
    assert (building["building"] == building["building_id"]).mean() >= 0.995
    for level in ("compound", "door", "community"):
        rows = m[m["resolvable_level"] == level]
        # at its level, or lifted by its household onto the building it really lives in
        lifted = (rows["geocode_level"] == "building") & (rows["building"] == rows["building_id"])
        assert ((rows["geocode_level"] == level) | lifted).mean() >= 0.98, level
    accepted = m["geocode_level"] != "none"
    wrong = accepted & (m["resolvable_level"] == "building") & (m["building"] != m["building_id"])
    assert wrong.sum() <= 0.001 * len(m)
    nonexistent = m[m["resolvable_level"] == "none"]
    assert (nonexistent["geocode_level"] != "none").mean() <= 0.01

    # rerun: nothing rewritten; --full: every row found unchanged
    again = run_pipeline(engine, pipeline, settings)
    assert all(s.status == "skipped" for s in again.sources)
    full = run_pipeline(engine, pipeline, settings, RunOptions(full=True))
    for source in full.sources:
        assert source.counts["loaded"] == 0, (source.name, source.counts)
        assert source.balanced
