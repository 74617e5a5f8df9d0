"""Heatmap tiles, rasters and statistics served by the real app, checked against the rows.

The seeded city's incidents get varied channels, statuses and deadlines, the cube is refreshed
by the database function the ETL calls, and every figure the API returns is recomputed here
from the incident rows (h3-py parents, pandas, or a direct SQL statement).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import mapbox_vector_tile
import morecantile
import numpy as np
import pandas as pd
import psycopg
import pytest
import rasterio
from h3.api import basic_int as h3i
from rasterio.io import MemoryFile
from sqlalchemy import create_engine as sa_create_engine

from geoplatform.analytics.nightly import run_scan
from geoplatform.analytics.stats import aggregate_incidents, incident_rates
from geoplatform.tiles.heatmaps import resolution_for_zoom
from tests.tiles_fixtures import (
    CATEGORIES,
    EAST,
    NORTH,
    SOUTH,
    WEST,
    bump_version,
    client,
    live_server,
    seed_city,
    tile_settings,
)

TMS = morecantile.tms.get("WebMercatorQuad")
ZONE = ZoneInfo("Asia/Shanghai")
CHANNELS = ("hotline", "grid_app", "video_ai")


@pytest.fixture
def city(database_url: str) -> pd.DataFrame:
    """The seeded city with varied channels and workflow states; returns the incident rows."""
    seed_city(database_url, incidents=4000)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            """
            UPDATE incidents SET
              channel = (ARRAY['hotline', 'grid_app', 'video_ai'])[1 + id % 3],
              due_at = CASE WHEN id % 7 = 0 THEN NULL ELSE reported_at + interval '3 days' END,
              status = CASE WHEN id % 5 = 0 THEN 'rejected'
                            WHEN id % 5 IN (1, 2) THEN 'closed'
                            ELSE 'handling' END,
              closed_at = CASE WHEN id % 5 = 1 THEN reported_at + interval '1 day'
                               WHEN id % 5 = 2 THEN reported_at + interval '5 days' END
            """
        )
        conn.execute("SELECT refresh_h3_cubes()")
        conn.execute("ANALYZE")
        rows = conn.execute(
            "SELECT id, h3_r11, reported_at, category, channel, status, closed_at, due_at,"
            " grid_code FROM incidents"
        ).fetchall()
    frame = pd.DataFrame(
        rows,
        columns=["id", "h3_r11", "reported_at", "category", "channel", "status", "closed_at",
                 "due_at", "grid"],
    )  # fmt: skip
    frame["day"] = [t.astimezone(ZONE).date() for t in frame["reported_at"]]
    return frame


@pytest.fixture
def server(database_url: str, city: pd.DataFrame, tmp_path: Path) -> Iterator[str]:
    with live_server(tile_settings(database_url, tmp_path)) as base:
        yield base


def _expected(
    rows: pd.DataFrame,
    res: int,
    start: dt.date | None = None,
    end: dt.date | None = None,
    categories: tuple[str, ...] = (),
    channels: tuple[str, ...] = (),
) -> pd.Series:
    keep = np.ones(len(rows), dtype=bool)
    if start is not None:
        keep &= (rows["day"] >= start).to_numpy()
    if end is not None:
        keep &= (rows["day"] <= end).to_numpy()
    if categories:
        keep &= rows["category"].isin(categories).to_numpy()
    if channels:
        keep &= rows["channel"].isin(channels).to_numpy()
    parents = [h3i.cell_to_parent(int(c), res) for c in rows.loc[keep, "h3_r11"]]
    return pd.Series(parents, dtype=np.int64).value_counts()


def _centre_tile(z: int) -> morecantile.Tile:
    return TMS.tile((WEST + EAST) / 2, (SOUTH + NORTH) / 2, z)


WINDOWS: list[tuple[str | None, dt.date | None, dt.date | None]] = [
    (None, None, None),
    ("2024-03-01/2024-06-30", dt.date(2024, 3, 1), dt.date(2024, 6, 30)),
    # ends in UTC: 2024-02-09T20:00Z is 2024-02-10 04:00 in the city
    ("2024-02-09T20:00:00Z/..", dt.date(2024, 2, 10), None),
    ("../2024-01-31", None, dt.date(2024, 1, 31)),
]


@pytest.mark.parametrize("z", [10, 12, 14, 16])
@pytest.mark.parametrize("window", range(len(WINDOWS)))
def test_mvt_hexagon_counts_equal_the_rows(
    server: str, city: pd.DataFrame, z: int, window: int
) -> None:
    text, start, end = WINDOWS[window]
    tile = _centre_tile(z)
    res = resolution_for_zoom(z)
    for categories, channels in [((), ()), ((CATEGORIES[0],), ()), ((), ("grid_app", "video_ai"))]:
        params: dict[str, str] = {}
        if text:
            params["datetime"] = text
        if categories:
            params["category"] = ",".join(categories)
        if channels:
            params["channel"] = ",".join(channels)
        with client(server) as http:
            r = http.get(f"/heatmap/incidents/{z}/{tile.x}/{tile.y}.mvt", params=params)
        assert r.status_code == 200, r.text
        assert r.headers["x-h3-resolution"] == str(res)
        features = mapbox_vector_tile.decode(r.content)["incidents"]["features"]
        got = {int(f["properties"]["cell"], 16): f["properties"]["count"] for f in features}
        expected = _expected(city, res, start, end, categories, channels)
        assert got, "the centre tile has hexagons"
        for cell, count in got.items():
            assert count == expected.get(cell, 0), (cell, count)
        # every cell with rows whose centre lies in the tile is drawn
        bounds = TMS.bounds(tile)
        for cell, count in expected.items():
            lat, lon = h3i.cell_to_latlng(int(cell))
            inside = bounds.left < lon < bounds.right and bounds.bottom < lat < bounds.top
            if inside:
                assert got.get(int(cell)) == count


def test_png_tile_is_transparent_exactly_where_no_hexagon(server: str, city: pd.DataFrame) -> None:
    z = 14
    tile = _centre_tile(z)
    res = resolution_for_zoom(z)
    with client(server) as http:
        r = http.get(
            f"/heatmap/incidents/{z}/{tile.x}/{tile.y}.png", params={"category": CATEGORIES[1]}
        )
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    with MemoryFile(r.content) as mem, mem.open() as png:
        assert (png.count, png.width, png.height) == (4, 256, 256)
        alpha = png.read(4)
    expected = _expected(city, res, categories=(CATEGORIES[1],))
    xy = TMS.xy_bounds(tile)
    size = (xy.right - xy.left) / 256
    checked = 0
    for cell in h3i.grid_disk(int(expected.index[0]), 6):
        lat, lon = h3i.cell_to_latlng(cell)
        x, y = TMS.xy(lon, lat)
        col, row = int((x - xy.left) / size), int((xy.top - y) / size)
        if 0 <= col < 256 and 0 <= row < 256:
            assert (alpha[row, col] > 0) == (expected.get(cell, 0) > 0), cell
            checked += 1
    assert checked > 20


@pytest.mark.parametrize("bandwidth", [None, 150.0])
def test_geotiff_georeferencing_and_totals(
    server: str, city: pd.DataFrame, bandwidth: float | None
) -> None:
    params = {
        "bbox": "106.76,39.62,106.84,39.70",
        "res": "10",
        "size": "400",
        "datetime": "2024-02-01/2024-09-30",
        "category": ",".join(CATEGORIES[:2]),
    }
    if bandwidth:
        params["bandwidth"] = str(bandwidth)
    with client(server) as http:
        r = http.get("/heatmap/incidents.tif", params=params)
    assert r.status_code == 200, r.text
    with MemoryFile(r.content) as mem, mem.open() as tif:
        assert tif.crs.to_epsg() == 3857
        assert tif.nodata == -1
        assert tif.dtypes[0] == "float32"
        assert tif.overviews(1) or max(tif.width, tif.height) <= 512
        left, bottom = TMS.xy(106.76, 39.62)
        right, top = TMS.xy(106.84, 39.70)
        t = tif.transform
        assert t.c == pytest.approx(left)
        assert t.f == pytest.approx(top)
        assert t.c + t.a * tif.width == pytest.approx(right)
        assert t.f + t.e * tif.height == pytest.approx(bottom)
        data = tif.read(1)
    expected = _expected(
        city, 10, dt.date(2024, 2, 1), dt.date(2024, 9, 30), tuple(CATEGORIES[:2])
    ).sum()
    if bandwidth is None:
        assert data.sum() == pytest.approx(expected, rel=1e-5)
    else:
        assert data.sum() == pytest.approx(expected, rel=0.01)


def test_geotiff_for_an_admin_area(server: str, city: pd.DataFrame) -> None:
    with client(server) as http:
        r = http.get("/heatmap/incidents.tif", params={"area": "150302001001", "res": "9"})
        assert r.status_code == 200, r.text
        with rasterio.open(io.BytesIO(r.content)) as tif:
            west, south = TMS.xy(WEST, SOUTH)
            assert tif.bounds.left == pytest.approx(west)
            assert tif.bounds.bottom == pytest.approx(south)
        missing = http.get("/heatmap/incidents.tif", params={"area": "150302001999"})
        assert missing.status_code == 404


def _direct_stats(url: str, by_len: int, t0: str | None, category: str | None) -> pd.DataFrame:
    """The statistics as one SQL statement written here, independently of the server's."""
    sql = f"""
        SELECT left(grid_code, {by_len}) AS code,
               count(*) AS incidents,
               count(*) FILTER (WHERE status = 'closed')::float
                 / nullif(count(*) FILTER (WHERE status <> 'rejected'), 0) AS closure_rate,
               count(*) FILTER (WHERE status = 'closed' AND closed_at <= due_at)::float
                 / nullif(count(*) FILTER (WHERE status = 'closed' AND due_at IS NOT NULL), 0)
                 AS on_time_rate,
               count(*) FILTER (WHERE status NOT IN ('closed', 'rejected')
                                  AND due_at < now()) AS overdue_now
        FROM incidents
        WHERE (%(t0)s::timestamptz IS NULL OR reported_at >= %(t0)s::timestamptz)
          AND (%(cat)s::text IS NULL OR category = %(cat)s)
        GROUP BY 1 ORDER BY 1
    """
    with psycopg.connect(url) as conn:
        cur = conn.execute(sql, {"t0": t0, "cat": category})
        return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description or ()])


@pytest.mark.parametrize(
    ("by", "length"), [("grid", 15), ("community", 12), ("street", 9), ("district", 6)]
)
def test_stats_equal_a_direct_sql_computation(
    server: str, database_url: str, by: str, length: int
) -> None:
    for t0, category in [(None, None), ("2024-05-01T00:00:00+08:00", CATEGORIES[2])]:
        params = {"by": by}
        if t0:
            params["datetime"] = f"{t0}/.."
        if category:
            params["category"] = category
        with client(server) as http:
            r = http.get("/stats/incidents", params=params)
        assert r.status_code == 200, r.text
        units = pd.DataFrame(r.json()["units"]).set_index("code")
        direct = _direct_stats(database_url, length, t0, category).set_index("code")
        if by == "district":
            # the seeded chain: community 150302001001 → street 150302001 → district 150302
            direct.index = [f"{c}000000" for c in direct.index]
        elif by == "street":
            direct.index = [f"{c}000" for c in direct.index]
        assert set(direct.index) <= set(units.index)
        for code, row in direct.iterrows():
            got = units.loc[code]
            assert got["incidents"] == row["incidents"]
            assert got["overdue_now"] == row["overdue_now"]
            for rate in ("closure_rate", "on_time_rate"):
                if pd.isna(row[rate]):
                    assert got[rate] is None or pd.isna(got[rate])
                else:
                    assert got[rate] == pytest.approx(row[rate])


def test_stats_per_10k_and_csv(server: str, database_url: str, city: pd.DataFrame) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO people (source, source_key, grid_code) SELECT 't', 'p' || g,"
            " '150302001001001' FROM generate_series(1, 250) AS g"
        )
    with client(server) as http:
        body = http.get("/stats/incidents", params={"by": "grid"}).json()
        as_csv = http.get("/stats/incidents", params={"by": "grid", "f": "csv"})
        by_accept = http.get("/stats/incidents", headers={"Accept": "text/csv"})
    units = {u["code"]: u for u in body["units"]}
    first = units["150302001001001"]
    assert first["residents"] == 250
    assert first["per_10k"] == pytest.approx(first["incidents"] * 10_000 / 250)
    assert units["150302001001002"]["per_10k"] is None  # no residents: no rate
    assert first["suppressed"] is False
    assert as_csv.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.StringIO(as_csv.text), dtype={"code": str}).set_index("code")
    assert frame.loc["150302001001001", "incidents"] == first["incidents"]
    assert by_accept.text == as_csv.text
    # the library's reference aggregate agrees with the served figures
    reference = incident_rates(aggregate_incidents(city, "grid", as_of=pd.Timestamp.now(tz="UTC")))
    for code, row in reference.iterrows():
        assert units[str(code)]["incidents"] == row["incidents"]
        assert units[str(code)]["closed"] == row["closed"]


def test_warnings_scan_is_served_and_rerunnable(
    server: str, database_url: str, city: pd.DataFrame
) -> None:
    # a burst in one cell in the last week of the year
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO incidents (channel, category, status, reported_at, geom, grid_code,"
            " h3_r11, source, source_key) SELECT 'hotline', %s, 'handling',"
            " timestamptz '2024-12-24 10:00+08' + g * interval '2 hours', geom, grid_code,"
            " h3_r11, 't', 'burst' || g FROM incidents, generate_series(1, 40) AS g"
            " WHERE id = (SELECT min(id) FROM incidents)",
            (CATEGORIES[0],),
        )
        conn.execute("SELECT refresh_h3_cubes()")
        burst_cell = conn.execute(
            "SELECT h3_r11 FROM incidents WHERE source_key = 'burst1'"
        ).fetchone()
    assert burst_cell is not None
    engine = sa_create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        first = run_scan(engine, dt.date(2024, 12, 28))
        again = run_scan(engine, dt.date(2024, 12, 28))
    finally:
        engine.dispose()
    assert first == again
    assert first.warned["cell"] >= 1
    assert first.warned["grid"] >= 1
    with client(server) as http:
        body: dict[str, Any] = http.get("/analytics/warnings").json()
        cells = http.get("/analytics/warnings", params={"level": "cell"}).json()
        bad = http.get("/analytics/warnings", params={"as_of": "yesterday"})
    assert len(body["features"]) == first.warned["cell"] + first.warned["grid"]
    parent = f"{h3i.cell_to_parent(int(burst_cell[0]), 9):x}"
    assert parent in {f["properties"]["unit"] for f in cells["features"]}
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in body["features"])
    assert bad.status_code == 400
    # a later scan is the latest one even when it finds less: the older scan's warnings are
    # not passed off as current, and stay readable by their day
    engine = sa_create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        later = run_scan(engine, dt.date(2025, 1, 31))
    finally:
        engine.dispose()
    with client(server) as http:
        latest = http.get("/analytics/warnings").json()["features"]
        older = http.get("/analytics/warnings", params={"as_of": "2024-12-28"}).json()
    assert len(latest) == later.warned["cell"] + later.warned["grid"]
    assert all(f["properties"]["as_of"] == "2025-01-31" for f in latest)
    assert len(older["features"]) == first.warned["cell"] + first.warned["grid"]


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/heatmap/people/12/3300/1550.mvt", 404, "no heatmap"),
        ("/heatmap/incidents/12/3300/1550.jpg", 400, ".mvt or .png"),
        ("/heatmap/incidents/3/9/9.mvt", 400, "outside"),
        ("/heatmap/incidents/12/3300/1550.mvt?datetime=yesterday", 400, "datetime"),
        ("/heatmap/incidents/12/3300/1550.png?colormap=rainbow", 400, "colormap"),
        ("/heatmap/incidents.tif", 400, "exactly one"),
        ("/heatmap/incidents.tif?bbox=1,2,3", 400, "bbox"),
        ("/heatmap/incidents.tif?bbox=106.7,39.6,106.9,39.7&res=4", 400, "res"),
        ("/heatmap/incidents.tif?bbox=106.7,39.6,106.9,39.7&bandwidth=-5", 400, "bandwidth"),
        ("/heatmap/incidents.tif?area=abc", 400, "area"),
        ("/stats/incidents?by=city", 400, "by"),
        ("/stats/incidents?f=xml", 400, "csv"),
        ("/stats/buildings", 404, "no statistics"),
        ("/stats/incidents?datetime=2024-05-01/2024-01-01", 400, "starts after"),
        ("/analytics/hotspots?res=12", 400, "res"),
        ("/analytics/hotspots?alpha=2", 400, "alpha"),
        ("/analytics/warnings?level=street", 400, "level"),
    ],
)
def test_bad_input_gets_a_clear_4xx(server: str, path: str, status: int, words: str) -> None:
    with client(server) as http:
        r = http.get(path)
    assert r.status_code == status, (path, r.text)
    assert words in r.json()["description"]
    assert "SELECT" not in r.text


def test_grid_stats_tiles_match_the_statistics(server: str) -> None:
    tile = _centre_tile(12)
    with client(server) as http:
        stats = http.get("/stats/incidents", params={"by": "grid", "category": CATEGORIES[0]})
        r = http.get(
            f"/stats/incidents/12/{tile.x}/{tile.y}.mvt",
            params={"by": "grid", "category": CATEGORIES[0]},
        )
        community = http.get(f"/stats/incidents/12/{tile.x}/{tile.y}.mvt?by=community")
        empty = http.get("/stats/incidents/12/0/0.mvt")
    assert r.status_code == 200, r.text
    units = {u["code"]: u for u in stats.json()["units"]}
    features = mapbox_vector_tile.decode(r.content)["grid_stats"]["features"]
    assert {f["properties"]["code"] for f in features} == set(units)
    for feature in features:
        props = feature["properties"]
        assert props["incidents"] == units[props["code"]]["incidents"]
        assert props["overdue_now"] == units[props["code"]]["overdue_now"]
    decoded = mapbox_vector_tile.decode(community.content)["grid_stats"]["features"]
    assert [f["properties"]["code"] for f in decoded] == ["150302001001"]
    assert empty.status_code == 204


def test_style_has_the_grid_stats_and_warnings_layers(server: str) -> None:
    with client(server) as http:
        style = http.get("/styles/onemap.json").json()
    ids = {layer["id"] for layer in style["layers"]}
    assert {"grid_stats-fill", "warnings-fill"} <= ids
    assert style["sources"]["grid_stats"]["tiles"][0].endswith(
        "/stats/incidents/{z}/{x}/{y}.mvt?by=grid"
    )


def test_warnings_cli_scans_and_lists(database_url: str, city: pd.DataFrame) -> None:
    from typer.testing import CliRunner

    from geoplatform.cli import app

    env = {"GEOPLATFORM_DATABASE_URL": database_url}
    runner = CliRunner()
    scanned = runner.invoke(app, ["warnings", "scan", "--as-of", "2024-10-31"], env=env)
    assert scanned.exit_code == 0, scanned.output
    assert "2024-10-31 cell:" in scanned.output
    assert "2024-10-31 grid:" in scanned.output
    listed = runner.invoke(app, ["warnings", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "SELECT count(*) FROM warnings WHERE as_of = (SELECT max(as_of) FROM warning_scans)"
        ).fetchone()
    assert stored is not None
    assert len([line for line in listed.output.splitlines() if line.strip()]) == stored[0]
    bad = runner.invoke(app, ["warnings", "scan", "--as-of", "31/10/2024"], env=env)
    assert bad.exit_code != 0


def test_hotspots_are_significant_cells_against_exposure(server: str, city: pd.DataFrame) -> None:
    with client(server) as http:
        r = http.get("/analytics/hotspots", params={"res": 9, "alpha": 0.05})
        windowed = http.get(
            "/analytics/hotspots", params={"res": 8, "datetime": "2024-06-01/2024-08-31"}
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "FeatureCollection"
    assert body["resolution"] == 9
    observed = _expected(city, 9)
    for feature in body["features"]:
        props = feature["properties"]
        assert props["significant"] is True
        assert props["p"] < body["p_threshold"]
        assert props["count"] == observed.get(int(props["cell"], 16), 0)
        assert feature["geometry"]["type"] == "Polygon"
    assert windowed.status_code == 200, windowed.text
    assert windowed.json()["resolution"] == 8


def test_small_resident_counts_are_suppressed(server: str, database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        for grid, people in (("150302001001001", 250), ("150302001001002", 4),
                             ("150302001001003", 30)):  # fmt: skip
            conn.execute(
                "INSERT INTO people (source, source_key, grid_code) SELECT 't',"
                " %s || g, %s FROM generate_series(1, %s) AS g",
                (grid, grid, people),
            )
        # as the ETL does: the statistics index (preloaded at start) reloads on the new version
        bump_version(conn, "people", database_url)
    with client(server) as http:
        units = {u["code"]: u for u in http.get("/stats/incidents?by=grid").json()["units"]}
        community = http.get("/stats/incidents?by=community").json()["units"][0]
    small = units["150302001001002"]
    assert small["suppressed"] is True
    assert small["residents"] is None
    assert small["per_10k"] is None
    assert small["incidents"] > 0  # incident figures are not about people: published
    # coarser units are sums of the published grids: the hidden 4 is in no count, so the
    # community minus its other grids yields nothing (k-anonymous aggregates, issue 12)
    assert [u["code"] for u in units.values() if u["suppressed"]] == ["150302001001002"]
    assert community["residents"] == 280
    assert community["residents"] - sum(u["residents"] or 0 for u in units.values()) == 0


@pytest.mark.parametrize("z", [0, 2, 4, 6])
def test_low_zoom_tiles_hold_every_incident(server: str, city: pd.DataFrame, z: int) -> None:
    tile = _centre_tile(z)
    with client(server) as http:
        r = http.get(f"/heatmap/incidents/{z}/{tile.x}/{tile.y}.mvt")
        png = http.get(f"/heatmap/incidents/{z}/{tile.x}/{tile.y}.png")
        world = http.get(
            "/heatmap/incidents.tif", params={"bbox": "-179,-80,179,80", "res": 11, "size": 64}
        )
    assert r.status_code == 200, r.text
    assert png.status_code == 200
    features = mapbox_vector_tile.decode(r.content)["incidents"]["features"]
    assert sum(f["properties"]["count"] for f in features) == len(city)
    assert world.status_code == 200, world.text
