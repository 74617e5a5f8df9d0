"""The second demo preset (Jiaxing) and what both presets now deliver: a road layer with former
names and door ranges, a published alias list, landmarks, household keys, the grammar's variant
space, vague hotline rows with true points, and pipelines copied from the committed files."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.engine import Engine

from geoplatform.demo import generate_city
from geoplatform.demo.delivery import JIAXING
from geoplatform.demo.pipeline import committed_pipeline
from geoplatform.demo.presets import get_preset
from geoplatform.etl.pipeline import load_pipeline
from geoplatform.etl.runner import run_pipeline
from geoplatform.geocode.evaluate import read_residents, read_standard_addresses
from geoplatform.settings import Settings
from geoplatform.spatial.chinese_offsets import gcj02_to_wgs84
from tests.conftest import DemoCities

SCALE = 0.01


@pytest.fixture(scope="module")
def jiaxing(demo_cities: DemoCities) -> Path:
    return demo_cities(SCALE, 3, preset="jiaxing")


@pytest.fixture(scope="module")
def wuhai(demo_cities: DemoCities) -> Path:
    return demo_cities(SCALE, 3)


def _digest(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "manifest.json"
    }


def test_same_seed_same_bytes_and_another_seed_another_city(tmp_path: Path) -> None:
    for name in ("a", "b"):
        generate_city(tmp_path / name, scale=0.005, seed=5, preset="jiaxing")
    generate_city(tmp_path / "c", scale=0.005, seed=6, preset="jiaxing")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_an_unknown_preset_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="jiaxing"):
        generate_city(tmp_path, scale=0.005, seed=1, preset="atlantis")


def test_jiaxing_boundaries_have_no_city_polygon_and_are_in_zone_40(jiaxing: Path) -> None:
    path = jiaxing / JIAXING.files["boundaries"]
    admin = gpd.read_file(path, layer="XZQ")
    assert admin.crs.to_epsg() == 4528
    assert "330400000000" not in set(admin["XZQDM"])
    districts = admin[admin["JB"].isin(["区", "县"])]
    assert set(districts["XZQDM"].str[:6]) == {"330402", "330411", "330421"}
    assert (districts["SJXZQDM"] == "330400000000").all()
    codes = admin["XZQDM"]
    street = codes[admin["JB"].isin(["街道", "镇"])].str[6:9].astype(int)
    assert street.between(1, 199).all()
    kind = admin.set_index("XZQDM")["JB"]
    for code, level in kind.items():
        if level in ("社区", "村"):
            part = int(str(code)[9:])
            assert (1 <= part <= 199) if level == "社区" else (200 <= part <= 399), code
        if level == "镇":
            assert 100 <= int(str(code)[6:9]) <= 199
    # eastings carry the zone number: 40,xxx,xxx m; the centre near 120.75°E
    x = admin.geometry.centroid.x
    assert ((x > 40_400_000) & (x < 40_700_000)).all()
    lonlat = admin.geometry.centroid.to_crs(4326)
    assert 120.4 < lonlat.x.mean() < 121.1
    assert 30.4 < lonlat.y.mean() < 31.1


def test_jiaxing_address_table_names_its_areas_and_carries_no_codes(jiaxing: Path) -> None:
    table = pd.read_csv(jiaxing / JIAXING.files["addresses"], dtype=str, encoding="gbk")
    assert not {"区县代码", "街道代码", "社区代码", "社区", "街路巷"} & set(table.columns)
    assert {"所属区县", "所属街道", "所属社区", "道路名称", "楼幢号"} <= set(table.columns)
    assert set(table["地址级别"]) == {"楼幢"}
    assert table["楼幢号"].str.fullmatch(r"\d+幢").all()
    doors = pd.read_csv(jiaxing / JIAXING.files["doors"], dtype=str, encoding="gbk")
    assert set(doors["门牌类型"]) == {"小区大门", "独立建筑"}
    assert not {"社区代码", "区县代码"} & set(doors.columns)
    gates = doors[doors["门牌类型"] == "小区大门"]
    assert gates["所属小区"].notna().all()
    assert set(table["小区名称"]) <= set(gates["所属小区"])
    groups = doors[doors["街路巷"].str.fullmatch(r"\d+组")]
    assert len(groups) > 0
    assert groups["所属社区"].str.endswith("村").all()
    # the evaluation resolves the names to codes from the delivered boundaries alone
    resolved = read_standard_addresses(jiaxing)
    assert (resolved["社区代码"].str.len() == 12).all()
    assert set(resolved["地址类型"]) == {"楼栋", "小区", "门牌"}


def test_both_presets_deliver_roads_aliases_landmarks_and_household_keys(
    jiaxing: Path, wuhai: Path
) -> None:
    jx_roads = gpd.read_file(jiaxing / JIAXING.files["roads"], encoding="gbk")
    assert jx_roads.crs.to_epsg() == 4549
    assert {"DLMC", "CYM", "DLDJ", "QSMP", "ZZMP", "SSQX"} <= set(jx_roads.columns)
    assert jx_roads["CYM"].notna().sum() > 5
    assert jx_roads["DLMC"].str[-1].isin(list("路街巷弄里道")).all()
    assert set(jx_roads["DLMC"].str[-1]) >= {"路", "街"}
    assert (jx_roads["QSMP"].dropna() <= jx_roads["ZZMP"].dropna()).all()
    assert set(jx_roads["SSQX"]) <= {"南湖区", "秀洲区", "嘉善县"}
    wh_roads = gpd.read_file(wuhai / "boundaries/行政区划与网格.gpkg", layer="道路中心线")
    assert {"道路名称", "曾用名", "起始门牌", "终止门牌", "区县代码"} <= set(wh_roads.columns)

    sheet = load_workbook(jiaxing / JIAXING.files["aliases"], read_only=True)["俗称"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("俗称", "标准名称", "所属社区", "所属街道")
    standard = pd.read_csv(jiaxing / JIAXING.files["doors"], dtype=str, encoding="gbk")
    assert {r[1] for r in rows[1:]} <= set(standard["所属小区"].dropna())
    wh_aliases = pd.read_csv(wuhai / "addresses/小区别名.csv", dtype=str, encoding="utf-8-sig")
    assert list(wh_aliases.columns) == ["别名", "小区名称", "社区代码"]
    assert len(wh_aliases) > 0

    poi = pd.read_csv(jiaxing / JIAXING.files["landmarks"], dtype=str, encoding="gbk")
    assert {"school", "hospital", "market"} <= set(poi["分类"])
    assert "中心医院" in "；".join(poi["俗称"].fillna(""))
    assert any(
        re.fullmatch(r"[一二三四五六七八九十]+中", a)
        for a in "；".join(poi["俗称"].fillna("")).split("；")
    )
    lon, lat = gcj02_to_wgs84(
        poi["经度"].astype(float).to_numpy(), poi["纬度"].astype(float).to_numpy()
    )
    assert ((lon > 120.4) & (lon < 121.1) & (lat > 30.4) & (lat < 31.1)).all()

    residents = read_residents(jiaxing)
    assert residents["household_key"].str.len().gt(0).all()
    workbook = load_workbook(next((jiaxing / "residents").glob("人口信息_*.xlsx")), read_only=True)
    header = next(workbook["人口信息"].iter_rows(values_only=True))
    assert {"户号", "居住地址", "身份证号", "人员ID"} <= set(header)


def test_jiaxing_incidents_speak_their_own_words(jiaxing: Path) -> None:
    hotline = pd.read_csv(jiaxing / JIAXING.files["hotline"], dtype=str, encoding="gbk")
    assert {"工单号", "发生地点", "工单状态", "问题描述"} <= set(hotline.columns)
    assert set(hotline["工单状态"].dropna()) <= set(JIAXING.statuses.values())
    video = pd.read_csv(jiaxing / JIAXING.files["video"], dtype=str)
    assert "识别置信度" in video.columns


def _flagged(residents: pd.DataFrame, name: str) -> pd.Series:
    return residents["address"][residents["variants"].str.split(";").map(lambda v: name in v)]


@pytest.mark.parametrize("preset", ["wuhai", "jiaxing"])
def test_the_grammar_variants_are_written_as_labelled(
    preset: str, jiaxing: Path, wuhai: Path
) -> None:
    city = jiaxing if preset == "jiaxing" else wuhai
    residents = read_residents(city)
    spec = get_preset(preset)
    assert _flagged(residents, "financial_numerals").str.contains("[壹贰叁肆伍陆柒捌玖拾]").all()
    assert _flagged(residents, "mixed_numerals").str.contains(r"十\d|百.*\d").all()
    assert _flagged(residents, "punctuation").str.contains(r"[-,，/ 。、－　]").all()
    assert _flagged(residents, "bracket_remark").str.contains(r"[(（【]").all()
    assert (
        _flagged(residents, "liang_numeral").str.contains("两(?:号|號|栋|棟|幢|座|#|楼|樓)").all()
    )
    wrong = residents[residents["variants"].str.contains("wrong_district")]
    for address, code in zip(wrong["address"], wrong["community_code"], strict=True):
        true_district = spec.district_name(code[:6])
        assert true_district not in address
        assert any(d.name in address for d in spec.districts)
    for name in ("alias_first_two", "alias_developer", "alias_xiaoqu", "typo_road_char"):
        assert len(_flagged(residents, name)) > 0, name
    none = residents[residents["variants"].str.contains("nonexistent_building")]
    assert (none["resolvable_level"] == "none").all()
    assert len(none) > 0
    partial = residents[residents["variants"].str.contains("household_partial")]
    assert partial["resolvable_level"].isin(["compound", "door"]).all()
    assert len(partial) > 0
    group = "village_group" if spec.village_groups else "village_lane"
    assert len(_flagged(residents, group)) > 0
    if spec.village_groups:
        assert (
            _flagged(residents, group)
            .str.contains(r"村.{0,12}[\d一二三四五六七八九１-９][组組]")
            .all()
        )


def test_vague_hotline_rows_have_true_points_at_what_they_name(jiaxing: Path) -> None:
    truth = pd.read_csv(jiaxing / "truth/incidents.csv", dtype=str, keep_default_na=False)
    hotline = pd.read_csv(jiaxing / JIAXING.files["hotline"], dtype=str, encoding="gbk")
    rows = truth[truth["source"] == "hotline"].copy()
    rows["text"] = hotline["发生地点"].fillna("").to_numpy()[rows["row"].astype(int) - 1]
    rows["x"] = hotline["经度"].to_numpy()[rows["row"].astype(int) - 1]
    vague = rows[rows["variants"].str.startswith("vague_")]
    assert set(vague["variants"]) == {"vague_intersection", "vague_landmark", "vague_compound"}
    assert vague["x"].isna().all()
    assert (vague["building_id"] == "").all()
    assert (vague["resolvable_level"] == vague["variants"].str.removeprefix("vague_")).all()
    crossing = vague[vague["variants"] == "vague_intersection"]
    assert crossing["text"].str.contains("(?:与|和|、).+(?:交叉口|交汇处|路口)").all()
    roads = gpd.read_file(jiaxing / JIAXING.files["roads"], encoding="gbk").to_crs(4326)
    lines = dict(zip(roads["DLMC"], roads.geometry, strict=True))
    names = sorted(lines, key=len, reverse=True)
    for text_, lon, lat in zip(crossing["text"], crossing["lon"], crossing["lat"], strict=True):
        first = next(n for n in names if text_.startswith(n))
        second = next(n for n in names if text_[len(first) + 1 :].startswith(n))
        point = shapely.Point(float(lon), float(lat))
        assert lines[first].distance(point) < 2e-4
        assert lines[second].distance(point) < 2e-4
    landmark = vague[vague["variants"] == "vague_landmark"]
    poi = pd.read_csv(jiaxing / JIAXING.files["landmarks"], dtype=str, encoding="gbk")
    names = set(poi["名称"]) | set("；".join(poi["俗称"].fillna("")).split("；"))
    assert all(any(t.startswith(n) for n in names if n) for t in landmark["text"])
    compound = vague[vague["variants"] == "vague_compound"]
    assert (compound["expected_address_id"].str.startswith("MP")).all()


def test_the_city_pipeline_is_the_committed_one_rooted_at_the_city(tmp_path: Path) -> None:
    out = tmp_path / "city"
    elsewhere = tmp_path / "ops" / "jx.yaml"
    generate_city(out, scale=0.005, seed=2, preset="jiaxing", pipeline_path=elsewhere)
    committed = committed_pipeline("jiaxing").read_text("utf-8")
    copy = (out / "pipeline.yaml").read_text("utf-8")
    assert copy == re.sub(r"(?m)^root:.*$", "root: .", committed)
    assert yaml.safe_load(elsewhere.read_text("utf-8"))["root"] == "../city"
    for path in (out / "pipeline.yaml", elsewhere):
        pipeline = load_pipeline(path)
        assert {s.entity for s in pipeline.spec.sources} >= {
            "roads",
            "compound_aliases",
            "landmarks",
        }
    document = yaml.safe_load(committed)
    assert document["root"] == "${GEOPLATFORM_DEMO_DIR:-../../.geoplatform/demo}"
    assert document["city"]["code"] == "330400000000"


@pytest.mark.slow
def test_jiaxing_loads_as_delivered(
    jiaxing: Path, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, home=tmp_path, hmac_key="demo-key-0123456789")
    result = run_pipeline(engine, load_pipeline(jiaxing / "pipeline.yaml"), settings)
    assert result.status == "succeeded", [(s.name, s.error) for s in result.sources]
    with engine.connect() as conn:
        count = {
            table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("roads", "compound_aliases", "landmarks")
        }
        city = conn.execute(
            text("SELECT name FROM admin_areas WHERE code = '330400000000'")
        ).scalar_one()
        unresolved = conn.execute(
            text("SELECT count(*) FROM standard_addresses WHERE community_code IS NULL")
        ).scalar_one()
        households = conn.execute(
            text("SELECT count(DISTINCT household_key) FROM people")
        ).scalar_one()
    assert min(count.values()) > 0, count
    assert city == "嘉兴市"
    assert unresolved == 0
    assert households > 100
    truth_roads = gpd.read_file(jiaxing / JIAXING.files["roads"], encoding="gbk")
    assert count["roads"] == len(truth_roads)
    assert np.isfinite(truth_roads["QSMP"].dropna().astype(float)).all()


def test_wuhai_pipeline_declares_every_source_found_from_its_root(tmp_path: Path) -> None:
    """Both copies of the committed pipeline find every file from their root."""
    city = tmp_path / "wuhai"
    generate_city(city, scale=0.005, seed=1, pipeline_path=tmp_path / "etl" / "demo.yaml")
    for yaml_path in (city / "pipeline.yaml", city.parent / "etl" / "demo.yaml"):
        document = yaml.safe_load(yaml_path.read_text("utf-8"))
        entities = {source["entity"] for source in document["sources"]}
        assert entities == {
            "admin_areas",
            "grids",
            "standard_addresses",
            "buildings",
            "people",
            "organisations",
            "incidents",
            "devices",
            "roads",
            "compound_aliases",
            "landmarks",
        }
        root = yaml_path.parent / document["root"]
        assert root.resolve() == city.resolve()
        for source in document["sources"]:
            assert not Path(source["path"]).is_absolute()
            matches = list(root.glob(source["path"]))
            assert matches, source["path"]
            tabular = source["format"] == "xlsx" or source["entity"] == "compound_aliases"
            assert {"name", "format", "crs", "key", "mode"} <= set(source) | (
                {"crs"} if tabular else set()
            )
        formats = {
            source["name"]: (source["format"], source.get("encoding"), source.get("crs"))
            for source in document["sources"]
        }
        assert formats["buildings"] == ("shapefile", "gbk", "EPSG:4545")
        assert formats["grids"] == ("geopackage", None, "EPSG:4524")
        assert formats["hotline"] == ("csv", "gbk", "gcj02")
        assert formats["video_ai"][2] == "bd09"
    pipeline = load_pipeline(city.parent / "etl" / "demo.yaml")
    assert len(pipeline.spec.sources) == 13


def test_the_cli_names_the_presets_when_given_an_unknown_one(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from geoplatform.cli import app

    result = CliRunner().invoke(
        app, ["demo", "generate", "--preset", "atlantis", "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 2
    assert "jiaxing" in result.output
    assert not (tmp_path / "x").exists()
