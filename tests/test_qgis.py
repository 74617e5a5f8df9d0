"""QGIS 3.22 from Debian (python3-qgis, headless) opens every collection through its OAPIF
provider with the database's feature count and CRS, and the one-map XYZ vector tiles with our
MapLibre style, converted by QGIS's own style converter and rendered once.

QGIS runs under Debian's /usr/bin/python3 (python3-qgis is not installable into the venv), as a
child process driven by tests/qgis/open_api.py.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from geoplatform.tiles.catalog import read_catalog_file
from tests.conftest import DatabaseFactory
from tests.standards_fixtures import LiveCity, live_city
from tests.tiles_fixtures import LAYERS_FILE, ROOT

SCRIPT = ROOT / "tests" / "qgis" / "open_api.py"
SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def live(
    database_factory: DatabaseFactory, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveCity]:
    with live_city(database_factory, tmp_path_factory.mktemp("qgis")) as city:
        with psycopg.connect(city.url) as conn:  # a warning and a landmark: no collection empty
            conn.execute(
                "INSERT INTO warnings (as_of, level, unit, window_start, window_end,"
                " baseline_start, baseline_end, observed, baseline, expected, p_value,"
                " dispersion, geom) SELECT '2024-06-30', 'grid', code, '2024-06-24', '2024-06-30',"
                " '2024-03-01', '2024-06-23', 30, 100, 6.2, 1e-6, 1.1, geom FROM grids LIMIT 1"
            )
            conn.execute(
                "INSERT INTO landmarks (name, aliases, kind, geom, grid_code, source, source_key)"
                " SELECT '第一中学', ARRAY['一中'], 'school', ST_PointOnSurface(geom), code, 't',"
                " 'L1' FROM grids LIMIT 1"
            )
        yield city


def expected_counts(live: LiveCity) -> dict[str, int]:
    counts: dict[str, int] = {}
    with psycopg.connect(live.url) as conn:
        for name, cfg in read_catalog_file(LAYERS_FILE).layers.items():
            if cfg.restricted:
                continue
            schema, table = cfg.table.split(".")
            where = sql.SQL(" AND ").join(
                sql.SQL("{} = {}").format(sql.Identifier(k), sql.Literal(v))
                for k, v in cfg.where.items()
            ) if cfg.where else sql.SQL("TRUE")  # fmt: skip
            query = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
                sql.Identifier(schema, table), where
            )
            counts[name] = int(conn.execute(query).fetchone()[0])  # type: ignore[index]
    return counts


@pytest.mark.slow
def test_qgis_opens_every_collection_and_the_styled_tiles(live: LiveCity, tmp_path: Path) -> None:
    assert Path(SYSTEM_PYTHON).is_file()
    check = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, f"python3-qgis missing: {check.stderr[-300:]}"
    expected = expected_counts(live)
    image = tmp_path / "onemap.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path)}
    env.pop("PYTHONPATH", None)  # the system Python must not import the venv's packages
    done = subprocess.run(
        [SYSTEM_PYTHON, str(SCRIPT), live.base, ",".join(expected), str(image)],
        capture_output=True, text=True, timeout=600, env=env, check=True,
    )  # fmt: skip
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["qgis"].startswith("3.22")
    for name, count in expected.items():
        got = result["collections"][name]
        assert got["valid"], (name, got["error"])
        assert got["count"] == count > 0, name
        assert got["crs"] in ("EPSG:4326", "OGC:CRS84"), (name, got["crs"])
    incident_ids = sorted(str(r[0]) for r in live.rows("SELECT id FROM incidents"))
    assert result["collections"]["incidents"]["ids"] == incident_ids

    tiles = result["tiles"]
    assert tiles["valid"]
    assert tiles["crs"] == "EPSG:3857"
    # every source layer of our style became a QGIS vector-tile style, and incidents were drawn
    assert {"districts", "grids", "buildings", "incidents", "devices"} <= set(tiles["style_layers"])
    assert tiles["warnings"] == []
    assert tiles["incident_pixels"] > 100
    assert image.stat().st_size > 0
