"""The built gazetteer kept on disk: reused while the layers' data versions stand, rebuilt when
one moves (real PostGIS; the demo city's standard addresses loaded as the ETL would)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from pyproj import Transformer
from sqlalchemy.engine import Engine

from geoplatform.db import transaction
from geoplatform.geocode.evaluate import STANDARD_ADDRESSES_CRS, read_standard_addresses
from geoplatform.geocode.index import cached_matcher, gazetteer_key
from tests.conftest import DemoCities
from tests.test_geocode_demo import SEED, _load


@pytest.fixture
def loaded(engine: Engine, demo_cities: DemoCities) -> tuple[Engine, pd.DataFrame]:
    standard = read_standard_addresses(demo_cities(0.02, SEED))
    transform = Transformer.from_crs(STANDARD_ADDRESSES_CRS, "EPSG:4326", always_xy=True)
    lon, lat = transform.transform(standard["X坐标"].astype(float), standard["Y坐标"].astype(float))
    with transaction(engine) as conn:
        _load(conn, standard, pd.Series(lon), pd.Series(lat))
    return engine, standard


def test_index_is_reused_until_a_layer_version_moves(
    loaded: tuple[Engine, pd.DataFrame], tmp_path: Path
) -> None:
    engine, standard = loaded
    building = standard[standard["地址类型"] == "楼栋"].iloc[0]
    address = f"{building['区县']}{building['小区名称']}{building['楼栋号']}"
    with transaction(engine) as conn:
        first = cached_matcher(conn, tmp_path)
        key = gazetteer_key(conn)
    pickles = list((tmp_path / "geocoder").glob("gazetteer-*.pickle"))
    assert [p.name for p in pickles] == [f"gazetteer-{key}.pickle"]
    with transaction(engine) as conn:
        second = cached_matcher(conn, tmp_path)
    assert second.gazetteer is not first.gazetteer  # loaded from disk, not rebuilt in memory
    assert second.match(address).building_key == first.match(address).building_key
    assert second.match(address).building_key == building["建筑编号"]
    with transaction(engine) as conn:
        conn.execute(
            sa.text("INSERT INTO meta.layer_versions (layer, version) VALUES ('roads', 1)")
        )
        third = cached_matcher(conn, tmp_path)
        moved = gazetteer_key(conn)
    assert moved != key
    pickles = list((tmp_path / "geocoder").glob("gazetteer-*.pickle"))
    assert [p.name for p in pickles] == [f"gazetteer-{moved}.pickle"]
    assert third.match(address).building_key == building["建筑编号"]


def test_a_damaged_pickle_is_rebuilt(loaded: tuple[Engine, pd.DataFrame], tmp_path: Path) -> None:
    engine, _ = loaded
    with transaction(engine) as conn:
        key = gazetteer_key(conn)
        path = tmp_path / "geocoder" / f"gazetteer-{key}.pickle"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"not a pickle")
        matcher = cached_matcher(conn, tmp_path)
    assert matcher.gazetteer.places
    assert path.stat().st_size > 100
