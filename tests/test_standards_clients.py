"""Real clients read the API as the standards let them: GDAL 3.6 from Debian (ogrinfo, ogr2ogr),
the newer GDAL inside the pyogrio wheel, and OWSLib's ogcapi client. What they read is compared
with the database, not with the server's own answers.

GDAL 3.6 notes (see docs/standards.md): its OAPIF driver pages `limit=10` whatever the API
says (the OpenAPI `default` is read from GDAL 3.8 on), which our keyset `next` links make cheap;
its OGCAPI driver, as Debian builds it, has no vector-tiles path at all (InitWithTilesAPI fails
without a message for any server), so with 3.6 a tile of the OGC Tiles API is opened by the
MVT driver.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import morecantile
import pandas as pd
import pytest

from geoplatform.tiles.catalog import read_catalog_file
from tests.conftest import DatabaseFactory
from tests.standards_fixtures import LiveCity, live_city
from tests.tiles_fixtures import LAYERS_FILE

PUBLIC = {name for name, cfg in read_catalog_file(LAYERS_FILE).layers.items() if not cfg.restricted}


@pytest.fixture(scope="module")
def live(
    database_factory: DatabaseFactory, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveCity]:
    with live_city(database_factory, tmp_path_factory.mktemp("clients")) as city:
        yield city


def run(*args: str, timeout: int = 300) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=True)
    return done.stdout


def database_incidents(live: LiveCity) -> pd.DataFrame:
    rows = live.rows(
        "SELECT id, category, reported_at, ST_X(geom), ST_Y(geom) FROM incidents ORDER BY id"
    )
    frame = pd.DataFrame(rows, columns=["id", "category", "reported_at", "x", "y"])
    frame["reported_at"] = pd.to_datetime(frame["reported_at"], utc=True)
    return frame


def assert_copy_equals_database(copied: Any, live: LiveCity) -> None:
    """The copied layer (a GeoDataFrame) holds every incident with its values and position."""
    truth = database_incidents(live)
    got = copied.sort_values("id").reset_index(drop=True)
    assert got["id"].astype(int).tolist() == truth["id"].tolist()
    assert got["category"].tolist() == truth["category"].tolist()
    stamps = pd.to_datetime(got["reported_at"], utc=True)
    assert (stamps - truth["reported_at"]).abs().max() < pd.Timedelta(milliseconds=1)
    assert got.geometry.x.to_numpy() == pytest.approx(truth["x"].to_numpy(), abs=1e-7)
    assert got.geometry.y.to_numpy() == pytest.approx(truth["y"].to_numpy(), abs=1e-7)
    assert got.crs is not None
    assert got.crs.to_epsg() in (4326, None)


def tile_of(point: tuple[float, float], z: int) -> morecantile.Tile:
    return morecantile.tms.get("WebMercatorQuad").tile(point[0], point[1], z)


def rows_in_tile(live: LiveCity, t: morecantile.Tile) -> int:
    return int(
        live.scalar(
            "SELECT count(*) FROM incidents WHERE ST_Intersects(geom, ST_Transform("
            "ST_TileEnvelope(%s, %s, %s, margin => 64.0 / 4096), 4326))",
            t.z, t.x, t.y,
        )
    )  # fmt: skip


@pytest.mark.slow
def test_gdal_36_lists_copies_and_opens_a_tile(live: LiveCity, tmp_path: Path) -> None:
    version = run("ogrinfo", "--version")
    assert version.startswith("GDAL 3.6"), version
    listing = run("ogrinfo", "-ro", "-q", f"OAPIF:{live.base}/")
    listed = set(re.findall(r"^\d+: (\w+)", listing, flags=re.M))
    assert listed == PUBLIC
    out = tmp_path / "incidents.gpkg"
    # default options: GDAL 3.6 asks limit=10 and follows next links
    run("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{live.base}/", "incidents")
    import pyogrio

    assert_copy_equals_database(pyogrio.read_dataframe(out), live)

    t = tile_of((106.80, 39.66), 16)
    for path in (
        f"/collections/incidents/tiles/WebMercatorQuad/16/{t.y}/{t.x}",
        f"/tiles/WebMercatorQuad/16/{t.y}/{t.x}",
    ):
        # no file extension to go by: tell /vsicurl/ it is one file, fetched with GET
        url = quote(f"{live.base}{path}", safe="")
        source = f"MVT:/vsicurl?list_dir=no&use_head=no&url={url}"
        info = run("ogrinfo", "-ro", "-so", source, "incidents")
        count = int(re.search(r"Feature Count: (\d+)", info).group(1))  # type: ignore[union-attr]
        assert count == rows_in_tile(live, t) > 0


WHEEL_GDAL = """
import json, sys
import pyogrio
base, out = sys.argv[1], sys.argv[2]
result = {"version": pyogrio.__gdal_version__}
result["collections"] = [str(n) for n, _ in pyogrio.list_layers(f"OAPIF:{base}/")]
frame = pyogrio.read_dataframe(f"OAPIF:{base}/", layer="incidents")
pyogrio.write_dataframe(frame, out, layer="incidents", driver="GPKG")
tiles = f"OGCAPI:{base}/collections/incidents"
result["zooms"] = [str(n) for n, _ in pyogrio.list_layers(tiles)]
tiled = pyogrio.read_dataframe(tiles, layer="Zoom level 16")
result["tiled_ids"] = sorted({int(v) for v in tiled["id"]})
grids = pyogrio.read_dataframe(f"OGCAPI:{base}/collections/grids", layer="Zoom level 12")
result["grid_codes"] = sorted(set(grids["code"]))
print(json.dumps(result))
"""


@pytest.mark.slow
def test_newer_gdal_from_the_wheel_lists_copies_and_opens_the_tiles_api(
    live: LiveCity, tmp_path: Path
) -> None:
    """pyogrio's bundled GDAL, in a child process: in this one it would hold the GIL while
    waiting for the in-process server."""
    import json
    import sys

    import pyogrio

    out = tmp_path / "incidents.gpkg"
    result = json.loads(run(sys.executable, "-c", WHEEL_GDAL, live.base, str(out)))
    assert tuple(result["version"][:2]) >= (3, 8)
    assert set(result["collections"]) == PUBLIC
    assert_copy_equals_database(pyogrio.read_dataframe(out), live)
    # OGC API Tiles: one layer per zoom of the limits; at the detail zoom every incident is in
    assert result["zooms"][0] == "Zoom level 0"
    assert "Zoom level 16" in result["zooms"]
    assert result["tiled_ids"] == sorted(r[0] for r in live.rows("SELECT id FROM incidents"))
    assert result["grid_codes"] == sorted(r[0] for r in live.rows("SELECT code FROM grids"))


def test_owslib_ogcapi_reads_collections_items_and_a_tile(live: LiveCity) -> None:
    from owslib.ogcapi.features import Features

    api = Features(live.base)
    ids = {c["id"] for c in api.collections()["collections"]}
    assert ids == PUBLIC
    assert api.conformance()["conformsTo"]
    page = api.collection_items("incidents", limit=25, datetime_="2024-03-05")
    expected = live.scalar(
        "SELECT count(*) FROM incidents WHERE reported_at >= '2024-03-05Z'"
        " AND reported_at < '2024-03-06Z'"
    )
    assert page["numberMatched"] == expected > 0
    assert len(page["features"]) == min(25, expected)
    item = api.collection_item("incidents", "3")
    lon, lat = live.rows("SELECT ST_X(geom), ST_Y(geom) FROM incidents WHERE id = 3")[0]
    assert item["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-7)
    queryables = api.collection_queryables("incidents")
    assert "reported_at" in queryables["properties"]

    # OWSLib 0.35 has no Tiles class: its ogcapi request machinery reads the tileset and a tile
    import mapbox_vector_tile

    tileset = api._request(path="collections/incidents/tiles/WebMercatorQuad")
    template = next(link["href"] for link in tileset["links"] if link["rel"] == "item")
    t = tile_of((106.80, 39.66), 16)
    href = template.format(tileMatrix=16, tileRow=t.y, tileCol=t.x)
    data = api._request(path=href.removeprefix(f"{live.base}/"), as_dict=False)
    features = mapbox_vector_tile.decode(data)["incidents"]["features"]
    assert len(features) == rows_in_tile(live, t) > 0
