"""Every entity round-trips as a GeoDataFrame; the constraints refuse impossible data clearly."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import geopandas as gpd
import h3
import pandas as pd
import pytest
import sqlalchemy as sa
from shapely import box
from shapely.geometry import MultiPolygon, Point, Polygon
from sqlalchemy.engine import Engine

from geoplatform.db.engine import transaction
from geoplatform.errors import InvalidRecord

CITY, DISTRICT, STREET, COMMUNITY = "150300000000", "150302000000", "150302001000", "150302001001"
GRID = COMMUNITY + "001"
T0 = datetime(2025, 3, 5, 6, 3, tzinfo=UTC)


def _multi(x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    return MultiPolygon([box(x0, y0, x1, y1)])


def _cell(point: Point) -> int:
    return int(h3.str_to_int(h3.latlng_to_cell(point.y, point.x, 11)))


def _provenance(n: int, source: str) -> dict[str, list[object]]:
    return {"source": [source] * n, "source_key": [f"k{i}" for i in range(n)]}


def admin_areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": [CITY, DISTRICT, STREET, COMMUNITY],
            "edition": [2023] * 4,
            "level": ["city", "district", "street", "community"],
            "name": ["乌海市", "海勃湾区", "凤凰岭街道", "凤凰岭社区"],
            "parent_code": [None, CITY, DISTRICT, STREET],
            "source_crs": ["EPSG:4524"] * 4,
            **_provenance(4, "boundaries"),
        },
        geometry=[_multi(106.6, 39.2, 107.2, 39.9)] * 2
        + [_multi(106.78, 39.64, 106.82, 39.68)] * 2,
        crs=4326,
    ).rename_geometry("geom")


def grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": [GRID, COMMUNITY + "002"],
            "edition": [2023, 2023],
            "name": ["凤凰岭社区第一网格", "乌海市第一中学"],
            "kind": ["basic", "special"],
            "special_type": [None, "school"],
            "community_code": [COMMUNITY, COMMUNITY],
            **_provenance(2, "grids"),
        },
        geometry=[_multi(106.78, 39.64, 106.80, 39.68), _multi(106.80, 39.64, 106.82, 39.68)],
        crs=4326,
    ).rename_geometry("geom")


POINTS = [Point(106.7905, 39.6551), Point(106.7951, 39.6602), Point(106.8101, 39.6702)]


def _located(source: str, extra: dict[str, list[object]]) -> gpd.GeoDataFrame:
    n = len(next(iter(extra.values())))
    pts = POINTS[:n]
    return gpd.GeoDataFrame(
        {
            **extra,
            **_provenance(n, source),
            "grid_code": [GRID] * n,
            "h3_r11": [_cell(p) for p in pts],
            "source_crs": ["gcj02"] * n,
        },
        geometry=pts,
        crs=4326,
    ).rename_geometry("geom")


def buildings() -> gpd.GeoDataFrame:
    frame = _located(
        "buildings",
        {
            "id": [1, 2],
            "name": ["3号楼", "银城华府5栋"],
            "compound": ["凤凰小区", "银城华府"],
            "building_number": ["3", "5"],
            "use_type": ["residential", "residential"],
            "floors": [6, 18],
        },
    )
    frame["footprint"] = gpd.GeoSeries(
        [MultiPolygon([p.buffer(0.0001, cap_style="square")]) for p in POINTS[:2]], crs=4326
    )
    return frame


def standard_addresses() -> gpd.GeoDataFrame:
    return _located(
        "standard_addresses",
        {
            "address": ["海勃湾区凤凰岭街道新华大街12号凤凰小区3号楼"],
            "normalized": ["海勃湾区凤凰岭街道新华大街12号凤凰小区3栋"],
            "level": ["building"],
            "district_code": [DISTRICT],
            "street_code": [STREET],
            "community_code": [COMMUNITY],
            "road": ["新华大街"],
            "door_number": ["12"],
            "compound": ["凤凰小区"],
            "building_number": ["3"],
            "building_id": [1],
        },
    )


def people() -> gpd.GeoDataFrame:
    return _located(
        "residents",
        {
            "id": [10, 11],
            "household_key": ["h1", "h1"],
            "gender": ["F", "M"],
            "birth_year": [1986, 2012],
            "residence_type": ["registered", "floating"],
            "building_id": [1, 1],
            "geocode_level": ["building", "building"],
            "geocode_score": [0.97, 0.91],
        },
    )


def organisations() -> gpd.GeoDataFrame:
    return _located(
        "organisations",
        {
            "name": ["乌海市某某商贸有限公司"],
            "credit_code": ["91150302MA0N123456"],
            "credit_code_valid": [False],
            "kind": ["enterprise"],
            "industry": ["retail"],
            "address": ["新华大街12号"],
            "building_id": [2],
            "geocode_level": ["door"],
            "geocode_score": [0.88],
        },
    )


def incidents() -> gpd.GeoDataFrame:
    return _located(
        "hotline",
        {
            "channel": ["hotline", "grid_app", "video_ai"],
            "category": ["市容环境", "街面秩序", "市容环境"],
            "subcategory": ["暴露垃圾", "占道经营", "暴露垃圾"],
            "demand_type": ["complaint", None, "report"],
            "urgency": ["normal", "urgent", "normal"],
            "status": ["closed", "dispatched", "reported"],
            "reported_at": [T0, T0 + timedelta(hours=1), T0 + timedelta(days=1)],
            "accepted_at": [T0 + timedelta(minutes=5), T0 + timedelta(hours=1), None],
            "dispatched_at": [T0 + timedelta(minutes=30), T0 + timedelta(hours=2), None],
            "handled_at": [T0 + timedelta(days=1), None, None],
            "closed_at": [T0 + timedelta(days=2), None, None],
            "due_at": [T0 + timedelta(days=3)] * 3,
        },
    )


def devices() -> gpd.GeoDataFrame:
    return _located(
        "devices",
        {
            "kind": ["camera", "iot_sensor"],
            "name": ["新华大街路口", "积水监测1"],
            "status": ["online", "fault"],
            "owner_department": ["公安局", "城管局"],
            "installed_at": [T0, T0],
        },
    )


ENTITIES = {
    "admin_areas": admin_areas,
    "grids": grids,
    "buildings": buildings,
    "standard_addresses": standard_addresses,
    "people": people,
    "organisations": organisations,
    "incidents": incidents,
    "devices": devices,
}


def _load_all(engine: Engine) -> None:
    for table, make in ENTITIES.items():
        with transaction(engine) as conn:
            make().to_postgis(table, conn, if_exists="append", index=False)


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True).astype(object).where(frame.notna(), None)
    for column in frame.columns:
        if frame[column].map(lambda v: hasattr(v, "wkb")).any():
            frame[column] = frame[column].map(lambda g: None if g is None else g.normalize().wkt)
        elif frame[column].map(lambda v: isinstance(v, datetime)).any():
            frame[column] = frame[column].map(lambda t: None if t is None else pd.Timestamp(t))
    return frame


@pytest.mark.parametrize("table", list(ENTITIES))
def test_entity_round_trips_as_geodataframe(engine: Engine, table: str) -> None:
    _load_all(engine)
    sent = ENTITIES[table]()
    with engine.connect() as conn:
        got = gpd.read_postgis(
            sa.text(f"SELECT * FROM {table} ORDER BY source_key"), conn, geom_col="geom"
        )
    assert got.crs is not None
    assert got.crs.to_epsg() == 4326
    if "footprint" in got.columns:
        got["footprint"] = gpd.GeoSeries.from_wkb(got["footprint"], crs=4326)
    columns = [c for c in sent.columns]
    assert _normalise(got[columns]).equals(_normalise(sent[columns])), table


def test_person_identity_lives_apart_and_holds_only_an_hmac(engine: Engine) -> None:
    _load_all(engine)
    key = b"key kept outside the database"
    digest = hmac.new(key, b"150302198603150027", hashlib.sha256).digest()
    with transaction(engine) as conn:
        conn.execute(
            sa.text(
                "INSERT INTO restricted.person_identities "
                "(person_id, id_number_hmac, id_number_valid, name, phone, key_person_category)"
                " VALUES (10, :h, true, '张三', '13800000000', NULL)"
            ),
            {"h": digest},
        )
    with engine.connect() as conn:
        public_columns = set(
            conn.execute(
                sa.text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = 'people'"
                )
            ).scalars()
        )
        stored = conn.execute(
            sa.text("SELECT id_number_hmac FROM restricted.person_identities")
        ).scalar_one()
    assert not public_columns & {"name", "phone", "id_number", "id_number_hmac", "address"}
    assert bytes(stored) == digest
    with pytest.raises(InvalidRecord, match="HMAC"), transaction(engine) as conn:
        conn.execute(
            sa.text(
                "INSERT INTO restricted.person_identities (person_id, id_number_hmac,"
                " id_number_valid) VALUES (11, convert_to('150302198603150027', 'UTF8'), true)"
            )
        )


def _insert(engine: Engine, table: str, frame: gpd.GeoDataFrame) -> None:
    with transaction(engine) as conn:
        frame.to_postgis(table, conn, if_exists="append", index=False)


def _assert_clear(error: InvalidRecord) -> None:
    message = str(error)
    assert "\n" not in message
    for sql_word in ("INSERT", "SELECT", "VALUES", "Traceback"):
        assert sql_word not in message


def test_bad_admin_code_is_refused_clearly(engine: Engine) -> None:
    frame = admin_areas().iloc[:1].copy()
    frame["code"] = "15030000000X"
    with pytest.raises(InvalidRecord, match="admin area code must be 12 digits") as info:
        _insert(engine, "admin_areas", frame)
    _assert_clear(info.value)


def test_code_that_contradicts_its_level_is_refused(engine: Engine) -> None:
    frame = admin_areas().iloc[:2].copy()
    frame.loc[1, "code"] = "150302001000"  # a street's code declared as a district
    with pytest.raises(InvalidRecord, match="does not fit its level"):
        _insert(engine, "admin_areas", frame)


def test_grid_code_outside_its_community_is_refused(engine: Engine) -> None:
    _insert(engine, "admin_areas", admin_areas())
    frame = grids().iloc[:1].copy()
    frame["code"] = "150302001002001"
    with pytest.raises(InvalidRecord, match="community's 12-digit code"):
        _insert(engine, "grids", frame)


def test_wrong_srid_is_refused_clearly(engine: Engine) -> None:
    """The database itself refuses (geopandas would too, but other writers exist)."""
    _insert(engine, "admin_areas", admin_areas())
    mercator = grids().to_crs(3857).geometry.iloc[0]
    with pytest.raises(InvalidRecord, match="SRID") as info, transaction(engine) as conn:
        conn.execute(
            sa.text(
                "INSERT INTO grids (code, edition, name, community_code, geom, source, source_key)"
                " VALUES (:code, 2023, 'g', :community, ST_GeomFromEWKT(:ewkt), 'grids', 'x')"
            ),
            {"code": GRID, "community": COMMUNITY, "ewkt": f"SRID=3857;{mercator.wkt}"},
        )
    _assert_clear(info.value)


def test_invalid_geometry_is_refused(engine: Engine) -> None:
    _insert(engine, "admin_areas", admin_areas())
    bowtie = Polygon([(106.78, 39.64), (106.80, 39.66), (106.80, 39.64), (106.78, 39.66)])
    frame = grids().iloc[:1].copy()
    frame["geom"] = gpd.GeoSeries([MultiPolygon([bowtie])], crs=4326)
    with pytest.raises(InvalidRecord, match="valid geometry"):
        _insert(engine, "grids", frame)


def test_invalid_status_is_refused_clearly(engine: Engine) -> None:
    _insert(engine, "admin_areas", admin_areas())
    _insert(engine, "grids", grids())
    frame = incidents().iloc[1:2].copy()
    frame["status"] = "done"
    with pytest.raises(InvalidRecord, match="incident status must be one of") as info:
        _insert(engine, "incidents", frame)
    _assert_clear(info.value)


def test_closed_incident_needs_closed_time(engine: Engine) -> None:
    _insert(engine, "admin_areas", admin_areas())
    _insert(engine, "grids", grids())
    frame = incidents().iloc[1:2].copy()
    frame["status"] = "closed"
    with pytest.raises(InvalidRecord, match="closed_at"):
        _insert(engine, "incidents", frame)


def test_h3_cell_of_wrong_resolution_is_refused(engine: Engine) -> None:
    _insert(engine, "admin_areas", admin_areas())
    _insert(engine, "grids", grids())
    frame = devices().iloc[:1].copy()
    frame["h3_r11"] = h3.str_to_int(h3.latlng_to_cell(39.65, 106.79, 9))
    with pytest.raises(InvalidRecord, match="resolution 11"):
        _insert(engine, "devices", frame)


def test_natural_key_is_unique_per_source(engine: Engine) -> None:
    _insert(engine, "admin_areas", admin_areas())
    _insert(engine, "grids", grids())
    _insert(engine, "devices", devices())
    with pytest.raises(InvalidRecord, match="source"):
        _insert(engine, "devices", devices().iloc[:1])


def test_rejected_incident_keeps_its_end_time(engine: Engine) -> None:
    """A call refused at intake (不予受理) is finished at its 办结时间 without being closed."""
    _insert(engine, "admin_areas", admin_areas())
    _insert(engine, "grids", grids())
    frame = incidents().iloc[2:3].copy()
    frame["status"] = "rejected"
    frame["closed_at"] = T0 + timedelta(days=1, minutes=5)
    _insert(engine, "incidents", frame)
    frame = incidents().iloc[1:2].copy()
    frame["closed_at"] = T0 + timedelta(days=1)  # dispatched, not finished
    with pytest.raises(InvalidRecord, match="only a closed or rejected"):
        _insert(engine, "incidents", frame)
