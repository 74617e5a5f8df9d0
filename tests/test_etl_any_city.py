"""Another city's delivery loads as delivered (issue: any city's delivery).

No city polygon, admin names instead of codes, a road layer with former names, an alias list,
landmarks, declared extra columns; and a delivery that loses its rows fails, naming why, with
the sources that needed it saying what they waited for.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from geoplatform.etl.pipeline import load_pipeline, parse_pipeline
from geoplatform.etl.runner import RunOptions, RunResult, run_pipeline
from geoplatform.settings import Settings
from tests.any_city_delivery import CITY, write_delivery


@pytest.fixture
def delivery(tmp_path: Path) -> Path:
    return write_delivery(tmp_path / "jiaxing")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The test database, with an HMAC key for the residents' ID numbers."""
    key = tmp_path / "hmac.key"
    key.write_text("any-city-test-key-0123456789\n")
    return Settings(database_url=database_url, home=tmp_path / "home", hmac_key_file=key)


def _run(engine: Engine, settings: Settings, path: Path, **options: object) -> RunResult:
    pipeline = load_pipeline(path)
    return run_pipeline(engine, pipeline, settings, RunOptions(**options))  # type: ignore[arg-type]


def _without_city(path: Path) -> Path:
    """The same delivery with a pipeline that does not declare the city."""
    text_ = path.read_text(encoding="utf-8").replace(', code: "330400000000", name: 嘉兴市}', "}")
    other = path.with_name("no-city.yaml")
    other.write_text(text_, encoding="utf-8")
    return other


def test_a_delivery_without_a_city_polygon_loads_with_the_city_derived(
    engine: Engine, settings: Settings, delivery: Path
) -> None:
    result = _run(engine, settings, delivery)
    assert result.status == "succeeded", [(s.name, s.status, s.error) for s in result.sources]
    admin = result.source("admin")
    assert admin.counts["derived"] == 1
    assert admin.balanced
    with engine.connect() as conn:
        city = conn.execute(
            text(
                "SELECT name, level, parent_code, ST_Area(ST_SymDifference(geom, (SELECT"
                " ST_Union(geom) FROM admin_areas WHERE level = 'district'))) AS gap,"
                " ST_Area(geom) AS area FROM admin_areas WHERE code = :c"
            ),
            {"c": CITY[0]},
        ).one()
    assert (city.name, city.level, city.parent_code) == (CITY[1], "city", None)
    assert city.area > 0.005
    assert city.gap < 1e-9
    # a rerun derives the same city: nothing to rewrite
    again = _run(engine, settings, delivery, full=True).source("admin")
    assert again.counts["unchanged"] == again.counts["read"] + again.counts["derived"]


def test_without_the_city_declared_the_admin_source_fails_and_its_dependents_wait(
    engine: Engine, settings: Settings, delivery: Path
) -> None:
    result = _run(engine, settings, _without_city(delivery))
    assert result.status == "failed"
    assert result.exit_code == 65
    admin = result.source("admin")
    assert admin.status == "failed"
    assert admin.error is not None
    assert "all 6 rows read were rejected" in admin.error
    assert "unknown_reference" in admin.error
    grid = result.source("grid")
    assert grid.status == "blocked"
    assert grid.error is not None
    assert grid.error.startswith("waits for admin, which failed: ")
    # the address table names areas: it needs them too, and the hotline needs the addresses
    assert result.source("addresses").status == "blocked"
    assert result.source("hotline").status == "blocked"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM admin_areas")).scalar() == 0
        stored = conn.execute(
            text("SELECT counts->'grid'->>'status' FROM etl.runs WHERE id = :r"),
            {"r": result.run_id},
        ).scalar()
    assert stored == "blocked"


def test_admin_names_resolve_to_codes_and_bad_names_are_rejected_with_reasons(
    engine: Engine, settings: Settings, delivery: Path
) -> None:
    result = _run(engine, settings, delivery)
    addresses = result.source("addresses")
    assert addresses.counts["rejected_by_reason"] == {
        "ambiguous_admin_name": 1,
        "unknown_admin_name": 1,
    }
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                text(
                    "SELECT source_key, district_code || '/' || street_code || '/' ||"
                    " community_code FROM standard_addresses WHERE source = 'addresses'"
                )
            ).all()
        )
        reasons = dict(
            conn.execute(
                text(
                    "SELECT source_key, reason FROM etl.rejects WHERE source = 'addresses'"
                    " AND run_id = :r"
                ),
                {"r": result.run_id},
            ).all()
        )
    # 街道办事处 / 社区居委会 and a district without 区 are the same names
    assert rows == {
        "A1": "330402000000/330402001000/330402001001",
        "A2": "330402000000/330402001000/330402001001",
        "A3": "330411000000/330411001000/330411001001",
    }
    assert "names 2 admin areas" in reasons["A4"]
    assert "不存在社区" in reasons["A5"]
    assert "330402001000" in reasons["A5"]


def test_roads_aliases_and_landmarks_land_in_their_tables(
    engine: Engine, settings: Settings, delivery: Path
) -> None:
    result = _run(engine, settings, delivery)
    for name in ("roads", "aliases", "landmarks"):
        assert result.source(name).counts["loaded"] > 0, result.source(name)
    with engine.connect() as conn:
        roads = {
            r.name: r
            for r in conn.execute(
                text(
                    "SELECT name, former_names, kind, door_min, door_max, district_code,"
                    " ST_GeometryType(geom) AS kind_of_geom, ST_X(ST_StartPoint(ST_GeometryN("
                    "geom, 1))) AS x FROM roads"
                )
            )
        }
        aliases = conn.execute(
            text("SELECT alias, compound, community_code, origin FROM compound_aliases")
        ).all()
        landmarks = conn.execute(
            text("SELECT name, aliases, kind, ST_X(geom), ST_Y(geom), grid_code FROM landmarks")
        ).all()
    assert roads["中山路"].former_names == ["解放路", "人民路"]
    assert (roads["中山路"].door_min, roads["中山路"].door_max) == (1, 199)
    assert roads["芦席汇"].district_code == "330411000000"
    assert roads["中山路"].kind_of_geom == "ST_MultiLineString"
    assert abs(roads["中山路"].x - 120.70) < 1e-6  # EPSG:4549 back to lon/lat
    assert sorted(aliases) == [
        ("梅湾", "梅湾苑", "330402001001", "published"),
        ("秀水", "秀水园", "330411001001", "published"),
    ]
    by_name = {row[0]: row for row in landmarks}
    school = by_name["嘉兴市第一中学"]
    assert school[1] == ["一中", "嘉兴一中"]
    assert abs(school[3] - 120.73) < 1e-5
    assert abs(school[4] - 30.76) < 1e-5
    assert school[5] == "330402001001001"


def test_door_plates_are_standard_addresses_of_level_door_with_their_kind(
    engine: Engine, settings: Settings, delivery: Path
) -> None:
    result = _run(engine, settings, delivery)
    assert result.source("doors").counts["loaded"] == 2
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT source_key, level, door_kind, address, door_number, compound,"
                " district_code, grid_code FROM standard_addresses WHERE source = 'doors'"
                " ORDER BY source_key"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("D1", "door", "gate", "中山路12号", "12", "梅湾苑", "330402000000", "330402001001001"),
        ("D2", "door", "building", "中山路15号", "15号", None, "330402000000", "330402001001001"),
    ]


def test_household_keys_land_with_the_residents(
    engine: Engine, settings: Settings, delivery: Path
) -> None:
    result = _run(engine, settings, delivery)
    assert result.source("residents").counts["read"] == 3
    with engine.connect() as conn:
        keys = dict(conn.execute(text("SELECT source_key, household_key FROM people")).all())
    assert keys["P1"] == keys["P2"] != keys["P3"]
    assert keys["P1"] is not None
    assert "HH-01" not in keys.values()  # pseudonymous: a keyed HMAC, not the 户号 itself


def test_declared_extra_columns_reach_attributes_typed(
    engine: Engine, settings: Settings, delivery: Path
) -> None:
    _run(engine, settings, delivery)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT source_key, attributes FROM incidents")).all())
    assert rows["H1"] == {"description": "路灯不亮", "confidence": 0.9}
    # a value of the wrong type is dropped, never the row
    assert rows["H2"] == {"description": "占道经营"}


def test_a_source_over_its_declared_reject_share_fails_naming_the_cause(
    engine: Engine, settings: Settings, delivery: Path
) -> None:
    strict = delivery.read_text(encoding="utf-8").replace(
        "    values: {level: {楼栋: building}}",
        "    values: {level: {楼栋: building}}\n    max_rejected_share: 0.2",
    )
    path = delivery.with_name("strict.yaml")
    path.write_text(strict, encoding="utf-8")
    result = _run(engine, settings, path)
    assert result.exit_code == 65
    addresses = result.source("addresses")
    assert addresses.status == "failed"
    assert addresses.error is not None
    assert "2 of 5 rows rejected (40%), more than the 20% allowed" in addresses.error
    assert "ambiguous_admin_name 1" in addresses.error
    assert result.source("hotline").status == "blocked"
    assert result.source("roads").status == "loaded"  # independent sources still load
    with engine.connect() as conn:
        query = "SELECT count(*) FROM standard_addresses WHERE source = 'addresses'"
        assert conn.execute(text(query)).scalar() == 0


def test_root_expands_variables_with_defaults(tmp_path: Path, delivery: Path) -> None:
    spec = parse_pipeline(delivery.read_text(encoding="utf-8"), delivery)
    assert spec.base_dir == delivery.parent / "."
    import os

    os.environ["ANYCITY_DIR"] = str(tmp_path / "elsewhere")
    try:
        assert spec.base_dir == tmp_path / "elsewhere"
        assert spec.resolve("区划.gpkg") == tmp_path / "elsewhere" / "区划.gpkg"
    finally:
        del os.environ["ANYCITY_DIR"]


def test_the_json_schema_validates_every_committed_pipeline_and_refuses_mistakes() -> None:
    import jsonschema
    import yaml

    from geoplatform.etl.schema import pipeline_json_schema

    schema = pipeline_json_schema()
    validator = jsonschema.Draft202012Validator(schema)
    repo = Path(__file__).resolve().parents[1]
    pipelines = sorted((repo / "etl" / "pipelines").glob("*.yaml"))
    assert pipelines
    for path in pipelines:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        errors = [e.message for e in validator.iter_errors(data)]
        assert not errors, (path.name, errors)
        load_pipeline(path)  # and the ETL's own validation agrees
    data = yaml.safe_load(
        (Path(__file__).parent / "any_city_delivery.py")
        .read_text(encoding="utf-8")
        .split('PIPELINE = """\\\n')[1]
        .split('"""')[0]
    )
    assert not list(validator.iter_errors(data))
    data["sources"][0]["entity"] = "roadz"
    data["sources"][1]["columns"]["colour"] = "颜色"
    messages = " ".join(e.message for e in validator.iter_errors(data))
    assert "'roadz' is not one of" in messages
    assert "'colour' is not one of" in messages


def test_a_layer_exposes_the_attributes_in_features_and_tiles(
    engine: Engine, settings: Settings, delivery: Path, tmp_path: Path, database_url: str
) -> None:
    import mapbox_vector_tile
    import morecantile

    from tests.tiles_fixtures import client, live_server, tile_settings

    _run(engine, settings, delivery)
    with live_server(tile_settings(database_url, tmp_path)) as base:
        http = client(base)
        page = http.get("/collections/incidents/items", params={"limit": 10}).json()
        by_key = {f["properties"]["id"]: f["properties"] for f in page["features"]}
        attributes = sorted(
            json.dumps(p["attributes"], ensure_ascii=False, sort_keys=True) for p in by_key.values()
        )
        assert attributes == [
            '{"confidence": 0.9, "description": "路灯不亮"}',
            '{"description": "占道经营"}',
        ]
        # filters and sort keys name plain properties only: a clear 400, not a SQL error
        bad = http.get("/collections/incidents/items", params={"filter": "attributes = 'x'"})
        assert bad.status_code == 400
        assert "JSON object" in bad.text
        assert (
            http.get("/collections/incidents/items", params={"sortby": "attributes"}).status_code
            == 400
        )
        tile = morecantile.tms.get("WebMercatorQuad").tile(120.72, 30.75, 17)
        response = http.get(f"/tiles/incidents/{tile.z}/{tile.x}/{tile.y}.mvt")
        assert response.status_code == 200
        decoded = mapbox_vector_tile.decode(response.content)
        properties = [f["properties"] for f in decoded["incidents"]["features"]]
        assert [p.get("description") for p in properties] == ["路灯不亮"]
        assert properties[0]["confidence"] == pytest.approx(0.9)


def test_the_loaded_roads_aliases_and_landmarks_reach_the_matcher(
    engine: Engine, settings: Settings, delivery: Path
) -> None:
    from geoplatform.geocode import Matcher

    _run(engine, settings, delivery)
    with engine.connect() as conn:
        matcher = Matcher.from_connection(conn)
        placed = dict(
            conn.execute(
                text(
                    "SELECT p.source_key, s.source_key FROM people p"
                    " JOIN standard_addresses s ON s.building_id IS NOT DISTINCT FROM p.building_id"
                    " AND ST_DWithin(s.geom, p.geom, 1e-7) WHERE p.geocode_level = 'building'"
                )
            ).all()
        )
    # the published alias 梅湾 → 梅湾苑 places its resident on 梅湾苑 2幢
    assert placed["P2"] == "A2"
    school = matcher.match("嘉兴一中门口")
    assert (school.level, school.accepted) == ("landmark", True)
    assert abs(school.lon - 120.73) < 3e-4
    assert abs(school.lat - 30.76) < 3e-4
    for junction in ("中山路与梅湾街交叉口", "解放路与梅湾街路口"):  # 解放路: a former name
        found = matcher.match(junction)
        assert (found.level, found.accepted) == ("intersection", True), junction
        assert abs(found.lon - 120.72) < 2e-4
        assert abs(found.lat - 30.75) < 2e-4


def test_a_review_answer_becomes_an_alias_the_next_run_uses(
    engine: Engine, settings: Settings, delivery: Path
) -> None:
    import pandas as pd

    from geoplatform.etl.review import resolve_review

    roster = delivery.parent / "实有人口.xlsx"
    frame = pd.read_excel(roster, sheet_name="人口", dtype=str)
    extra = {"人员编号": "P4", "户号": "HH-09", "身份证号": frame["身份证号"].iat[0]}
    extra["居住地址"] = "南湖区东栅新苑2幢"  # a name the gazetteer does not know
    frame = pd.concat([frame, pd.DataFrame([extra])], ignore_index=True)
    frame.to_excel(roster, index=False, sheet_name="人口")
    _run(engine, settings, delivery)
    with engine.connect() as conn:
        review_id = conn.execute(
            text("SELECT id FROM restricted.geocode_review WHERE source_key = 'P4'")
        ).scalar_one()
    done = resolve_review(engine, review_id, "A2", settings.resolved_home)
    assert (done.alias, done.compound) == ("东栅新苑", "梅湾苑")
    _run(engine, settings, delivery, full=True)
    with engine.connect() as conn:
        level, same_point, status = conn.execute(
            text(
                "SELECT p.geocode_level, ST_DWithin(p.geom, s.geom, 1e-7), r.status FROM people p,"
                " standard_addresses s, restricted.geocode_review r WHERE p.source_key = 'P4'"
                " AND s.source_key = 'A2' AND r.id = :id"
            ),
            {"id": review_id},
        ).one()
        origin = conn.execute(
            text("SELECT origin FROM compound_aliases WHERE alias = '东栅新苑'")
        ).scalar_one()
    assert (level, same_point, status, origin) == ("building", True, "resolved", "learned")
