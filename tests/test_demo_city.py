"""The demo city at scale 0.02: structure, counts, mess, formats read back as a user would."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from geoplatform.demo import (
    REJECT_REASONS,
    AddressVariantShares,
    generate_city,
    targets_for_scale,
    vocab,
)
from geoplatform.demo.config import EXTENT_LAT, EXTENT_LON, RESOLVABLE_LEVELS, VARIANT_NAMES
from geoplatform.identifiers import is_valid_credit_code, is_valid_id_number, normalise_id_number
from geoplatform.spatial.chinese_offsets import bd09_to_wgs84, gcj02_to_wgs84

SCALE = 0.02
GPKG = "boundaries/行政区划与网格.gpkg"
TO_METRIC = Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city") / "wuhai"
    report = generate_city(out, scale=SCALE, seed=1)
    assert report.counts["residents"] > 0
    return out


@pytest.fixture(scope="module")
def report(city: Path) -> dict[str, object]:
    import json

    manifest: dict[str, object] = json.loads((city / "truth" / "manifest.json").read_text("utf-8"))
    return manifest


@pytest.fixture(scope="module")
def residents(city: Path) -> pd.DataFrame:
    """Every roster row joined to its truth row by file and row number."""
    frames = []
    for path in sorted((city / "residents").glob("*.xlsx")):
        frame = pd.read_excel(path, sheet_name="实有人口", dtype=str, engine="openpyxl")
        frame["file"] = path.relative_to(city).as_posix()
        frame["row"] = np.arange(1, len(frame) + 1)
        frames.append(frame)
    roster = pd.concat(frames, ignore_index=True)
    truth = pd.read_csv(city / "truth/people.csv", dtype=str, keep_default_na=False)
    truth["row"] = truth["row"].astype(int)
    joined = roster.merge(truth, on=["file", "row"], how="inner", validate="one_to_one")
    assert len(joined) == len(roster) == len(truth)
    assert (joined["人员编号"] == joined["person_key"]).all()
    return joined


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _metres(
    lon_a: np.ndarray, lat_a: np.ndarray, lon_b: np.ndarray, lat_b: np.ndarray
) -> np.ndarray:
    xa, ya = TO_METRIC.transform(lon_a, lat_a)
    xb, yb = TO_METRIC.transform(lon_b, lat_b)
    return np.hypot(np.asarray(xa) - xb, np.asarray(ya) - yb)


# --- structure -------------------------------------------------------------------------------


def test_admin_levels_and_grids_nest_without_gaps_or_overlaps(city: Path) -> None:
    admin = pyogrio.read_dataframe(city / GPKG, layer="行政区划")
    grids = pyogrio.read_dataframe(city / GPKG, layer="网格")
    assert admin.crs.to_epsg() == 4524
    assert grids.crs.to_epsg() == 4524
    admin = admin.to_crs("EPSG:4545")
    grids = grids.to_crs("EPSG:4545")
    children = pd.concat(
        [
            admin[["上级代码", "geometry"]].rename(columns={"上级代码": "parent"}),
            grids[["所属社区代码", "geometry"]].rename(columns={"所属社区代码": "parent"}),
        ]
    )
    checked = 0
    for code, parent in zip(admin["区划代码"], admin.geometry, strict=True):
        members = children.loc[children["parent"] == code, "geometry"].to_numpy()
        if len(members) == 0:
            continue
        union = shapely.union_all(members)
        gap = shapely.difference(parent, union).area
        overlap = float(shapely.area(members).sum()) - union.area
        outside = shapely.difference(union, parent).area
        assert gap <= 1.0, (code, gap)
        assert overlap <= 1.0, (code, overlap)
        assert outside <= 1.0, (code, outside)
        checked += 1
    assert checked == 1 + 3 + 20 + 83


def test_every_grid_belongs_to_exactly_one_community(city: Path) -> None:
    admin = pyogrio.read_dataframe(city / GPKG, layer="行政区划")
    grids = pyogrio.read_dataframe(city / GPKG, layer="网格")
    communities = admin[admin["级别"].isin(["社区", "村"])].reset_index(drop=True)
    assert grids["网格编码"].is_unique
    assert grids["网格编码"].str.fullmatch(r"\d{15}").all()
    assert (grids["网格编码"].str[:12] == grids["所属社区代码"]).all()
    tree = shapely.STRtree(communities.geometry.to_numpy())
    for code, geometry, community in zip(
        grids["网格编码"], grids.geometry, grids["所属社区代码"], strict=True
    ):
        hits = [
            communities.at[int(i), "区划代码"]
            for i in tree.query(geometry, predicate="intersects")
            if shapely.intersection(geometry, communities.geometry[int(i)]).area > 1.0
        ]
        assert hits == [community], code


def test_codes_follow_the_rules(city: Path) -> None:
    admin = pyogrio.read_dataframe(city / GPKG, layer="行政区划", read_geometry=False)
    streets = admin[admin["级别"].isin(["街道", "镇"])]
    township = streets["区划代码"].str[6:9].astype(int)
    assert ((streets["级别"] == "街道") == (township < 100)).all()
    assert {"150302003000", "150303104000", "150304101000"} <= set(streets["区划代码"])
    assert set(streets.loc[streets["区划代码"] == "150302003000", "名称"]) == {"新华街道"}
    communities = admin[admin["级别"].isin(["社区", "村"])]
    part = communities["区划代码"].str[9:].astype(int)
    assert ((communities["级别"] == "社区") == (part < 200)).all()
    assert ((communities["级别"] == "村") == part.between(200, 399)).all()


def test_grid_sequence_runs_west_to_east_then_north_to_south(city: Path) -> None:
    grids = pyogrio.read_dataframe(city / GPKG, layer="网格")
    inversions = 0
    comparisons = 0
    for _, group in grids.groupby("所属社区代码"):
        points = shapely.point_on_surface(group.sort_values("网格编码").geometry.to_numpy())
        y = shapely.get_y(points)
        comparisons += max(len(y) - 1, 0)
        inversions += int((np.diff(y) > 1500).sum())  # a jump back north by more than a band
    assert inversions <= 0.05 * comparisons


def test_buildings_never_cross_a_grid_edge(city: Path) -> None:
    buildings = pyogrio.read_dataframe(city / "buildings/建筑物.shp", encoding="GBK")
    grids = pyogrio.read_dataframe(city / GPKG, layer="网格").to_crs("EPSG:4545")
    inside = gpd.sjoin(buildings, grids, predicate="within", how="left")
    assert inside.index.is_unique
    assert inside["网格编码"].notna().all()
    truth = pd.read_csv(city / "truth/buildings.csv", dtype=str).set_index("building_id")
    assert (
        inside["网格编码"].to_numpy() == truth.loc[inside["建筑编号"], "grid_code"].to_numpy()
    ).all()
    assert (
        not shapely.STRtree(buildings.geometry.to_numpy())
        .query(buildings.geometry.to_numpy(), predicate="overlaps")
        .size
    )


def test_special_grids_and_compounds_exist(city: Path) -> None:
    grids = pyogrio.read_dataframe(city / GPKG, layer="网格", read_geometry=False)
    special = set(grids["专属类型"].dropna())
    assert special == {"学校", "医院", "市场", "工业园区"}
    buildings = pyogrio.read_dataframe(
        city / "buildings/建筑物.shp", encoding="GBK", read_geometry=False
    )
    compound = buildings[buildings["小区名称"].fillna("") != ""]
    assert compound.groupby("小区名称")["楼号"].nunique().min() >= 1
    assert compound["楼号"].astype(int).min() == 1


# --- counts and shares --------------------------------------------------------------------------


def test_counts_within_ten_percent_of_targets(city: Path) -> None:
    targets = targets_for_scale(SCALE)
    admin = pyogrio.read_dataframe(city / GPKG, layer="行政区划", read_geometry=False)
    grids = pyogrio.read_dataframe(city / GPKG, layer="网格", read_geometry=False)
    residents = pd.concat(
        [
            pd.read_excel(path, sheet_name="实有人口", dtype=str, engine="openpyxl")
            for path in sorted((city / "residents").glob("*.xlsx"))
        ]
    )
    organisations = pd.read_csv(city / "organisations/法人单位名录.csv", dtype=str)
    devices = pyogrio.read_dataframe(city / "devices/感知设备.geojson", read_geometry=False)
    keys = set()
    for path, encoding, key in (
        ("incidents/12345热线工单.csv", "gbk", "工单编号"),
        ("incidents/网格事件.csv", "utf-8", "事件编号"),
        ("incidents/视频智能告警.csv", "utf-8", "告警编号"),
    ):
        keys |= set(pd.read_csv(city / path, encoding=encoding, dtype=str)[key])
    measured = {
        "districts": (admin["级别"] == "区").sum(),
        "streets": admin["级别"].isin(["街道", "镇"]).sum(),
        "communities": admin["级别"].isin(["社区", "村"]).sum(),
        "grids": len(grids),
        "residents": len(residents),
        "organisations": len(organisations),
        "devices": len(devices),
        "incidents": len(keys),
        "key_persons": residents["人员类别"].notna().sum(),
    }
    for name, value in measured.items():
        target = getattr(targets, name)
        assert abs(value - target) <= 0.10 * target, (name, value, target)


def test_variant_shares_within_a_point_of_their_settings(city: Path) -> None:
    truth = pd.read_csv(city / "truth/people.csv", dtype=str, keep_default_na=False)
    settings = AddressVariantShares().to_dict()
    labels = truth["variants"].str.split(";")
    for name in VARIANT_NAMES:
        realised = labels.map(lambda row, name=name: name in row).mean()
        assert abs(realised - settings[name]) <= 0.01, (name, realised, settings[name])


def test_custom_shares_are_honoured_and_reported(tmp_path: Path) -> None:
    shares = AddressVariantShares(
        typo_compound=0.10, traditional=0.0, fullwidth=0.15, nonexistent=0.05
    )
    report = generate_city(tmp_path / "c", scale=0.01, seed=3, shares=shares)
    truth = pd.read_csv(tmp_path / "c/truth/people.csv", dtype=str, keep_default_na=False)
    labels = truth["variants"].str.split(";")
    for name in ("typo_compound", "traditional", "fullwidth", "nonexistent"):
        realised = labels.map(lambda row, name=name: name in row).mean()
        assert abs(realised - getattr(shares, name)) <= 0.01
        assert report.variant_shares[name] == pytest.approx(realised)
    assert (truth["resolvable_level"] == "none").mean() == pytest.approx(0.05, abs=0.01)


def test_resident_addresses_defeat_a_naive_exact_matcher(
    city: Path, residents: pd.DataFrame
) -> None:
    """Exact lookup of the address (room stripped) in the standard table scores well below 95%."""
    table = pd.read_csv(city / "addresses/标准地址.csv", encoding="utf-8-sig", dtype=str)
    lookup = dict(zip(table["标准地址"], table["地址编码"], strict=True))
    truth = residents
    stripped = residents["现住址"].str.replace(r"\d+单元\d+室$", "", regex=True)
    matched = stripped.map(lookup).fillna("").to_numpy()
    resolvable = truth["resolvable_level"].isin(["building", "compound", "door"]).to_numpy()
    correct = (matched == truth["expected_address_id"].to_numpy()) & resolvable
    assert correct.sum() / resolvable.sum() < 0.6
    assert correct.sum() > 0  # the clean rows do match: the matcher itself works


def test_rows_carry_their_resolvable_level_and_expected_address(city: Path) -> None:
    truth = pd.read_csv(city / "truth/people.csv", dtype=str, keep_default_na=False)
    table = pd.read_csv(city / "addresses/标准地址.csv", encoding="utf-8-sig", dtype=str)
    assert set(truth["resolvable_level"]) == set(RESOLVABLE_LEVELS)
    for level, kinds in (
        ("building", {"楼栋", "门牌"}),
        ("compound", {"小区"}),
        ("door", {"小区"}),
    ):
        ids = truth.loc[truth["resolvable_level"] == level, "expected_address_id"]
        assert set(table.set_index("地址编码").loc[ids, "地址类型"]) <= kinds
    assert (truth.loc[truth["resolvable_level"] == "none", "expected_address_id"] == "").all()


def test_messy_forms_actually_appear(residents: pd.DataFrame) -> None:
    address = residents["现住址"].to_numpy()
    variants = residents["variants"].to_numpy()

    def rows(name: str) -> np.ndarray:
        return np.array([name in v.split(";") for v in variants])

    assert all(re.search(r"[０-９]", a) for a in address[rows("fullwidth")])
    traditional = {t for s, t in vocab.TRADITIONAL.items() if s != t}
    assert all(set(a) & traditional for a in address[rows("traditional")])
    assert all(
        re.search(
            r"\d+-\d+-\d+", a.translate(str.maketrans("０１２３４５６７８９－", "0123456789-"))
        )
        for a in address[rows("glued_unit_room")]
    )
    assert all(re.search(r"[一二三四五六七八九十零]", a) for a in address[rows("chinese_numerals")])
    assert not any(a.startswith("乌海市") for a in address[rows("missing_city")])


def test_identifiers_are_valid_except_the_planted_ones(city: Path, residents: pd.DataFrame) -> None:
    truth = residents
    ids = residents["公民身份号码"].to_numpy()
    exact = np.array([is_valid_id_number(i) for i in ids])
    forgiving = np.array([is_valid_id_number(normalise_id_number(i)) for i in ids])
    planted = truth["reject_reason"].to_numpy() == "invalid_id_number"
    assert (forgiving == ~planted).all()
    assert 0.003 <= (~exact).mean() <= 0.008
    assert any(i.endswith("x") for i in ids)
    phones = residents["联系电话"].dropna()
    assert phones.str.fullmatch(r"1\d{10}|0473-\d{7}").all()

    orgs = pd.read_csv(city / "organisations/法人单位名录.csv", dtype=str)
    org_truth = pd.read_csv(city / "truth/organisations.csv", dtype=str, keep_default_na=False)
    valid = orgs["统一社会信用代码"].map(is_valid_credit_code).to_numpy()
    assert (valid == (org_truth["reject_reason"] != "invalid_credit_code").to_numpy()).all()
    assert 0.005 <= (~valid).mean() <= 0.02
    assert orgs["统一社会信用代码"].str[0].isin(list("NYA")).any()
    with_xy = orgs["经度"].notna()
    assert 0.4 <= with_xy.mean() <= 0.6


# --- read back as a user would --------------------------------------------------------------


def test_buildings_shapefile_is_gbk_without_cpg_and_reproduces_truth(city: Path) -> None:
    shp = city / "buildings/建筑物.shp"
    assert not shp.with_suffix(".cpg").exists()
    naive = pyogrio.read_dataframe(shp, read_geometry=False)
    buildings = pyogrio.read_dataframe(shp, encoding="GBK")
    assert buildings.crs.to_epsg() == 4545
    named = buildings["小区名称"].fillna("") != ""
    assert named.any()
    assert "小区名称" not in naive.columns or not naive["小区名称"].equals(buildings["小区名称"])
    truth = pd.read_csv(city / "truth/buildings.csv", dtype={"building_id": str}).set_index(
        "building_id"
    )
    centroids = shapely.centroid(buildings.geometry.to_numpy())
    x, y = shapely.get_x(centroids), shapely.get_y(centroids)
    expected = truth.loc[buildings["建筑编号"]]
    tx, ty = TO_METRIC.transform(expected["lon"].to_numpy(), expected["lat"].to_numpy())
    assert np.hypot(x - tx, y - ty).max() < 0.001
    assert set(truth.loc[buildings.loc[named, "建筑编号"], "compound_name"]) == set(
        buildings.loc[named, "小区名称"]
    )


def test_standard_addresses_csv_has_bom_and_exact_points(city: Path) -> None:
    path = city / "addresses/标准地址.csv"
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    table = pd.read_csv(path, encoding="utf-8-sig", dtype={"地址编码": str, "建筑编号": str})
    truth = pd.read_csv(city / "truth/buildings.csv", dtype=str).set_index("building_id")
    blocks = table[table["地址类型"] == "楼栋"]
    expected = truth.loc[blocks["建筑编号"]]
    tx, ty = TO_METRIC.transform(
        expected["lon"].astype(float).to_numpy(), expected["lat"].astype(float).to_numpy()
    )
    assert np.hypot(blocks["X坐标"].to_numpy() - tx, blocks["Y坐标"].to_numpy() - ty).max() < 0.001
    assert table["地址编码"].is_unique
    assert table["标准地址"].is_unique


def test_epsg_incident_and_device_files_reproduce_truth_within_a_millimetre(city: Path) -> None:
    truth = pd.read_csv(
        city / "truth/incidents.csv",
        dtype={"source_key": str, "reject_reason": str},
        keep_default_na=False,
    )
    grid_app = pd.read_csv(city / "incidents/网格事件.csv", dtype=str)
    rows = truth[truth["source"] == "gridapp"].reset_index(drop=True)
    good = (rows["reject_reason"] == "").to_numpy()
    lon = grid_app["经度"].astype(float).to_numpy()[good]
    lat = grid_app["纬度"].astype(float).to_numpy()[good]
    assert (
        _metres(
            lon,
            lat,
            rows["lon"].to_numpy()[good].astype(float),
            rows["lat"].to_numpy()[good].astype(float),
        ).max()
        < 0.001
    )

    devices = pyogrio.read_dataframe(city / "devices/感知设备.geojson")
    assert devices.crs.to_epsg() == 4490
    device_truth = pd.read_csv(city / "truth/devices.csv", dtype={"device_id": str})
    assert (devices["设备编号"].to_numpy() == device_truth["device_id"].to_numpy()).all()
    distance = _metres(
        devices.geometry.x.to_numpy(),
        devices.geometry.y.to_numpy(),
        device_truth["lon"].to_numpy(),
        device_truth["lat"].to_numpy(),
    )
    assert distance.max() < 0.001


def test_gcj02_and_bd09_files_invert_to_within_a_metre(city: Path) -> None:
    truth = pd.read_csv(
        city / "truth/incidents.csv",
        dtype={"source_key": str, "reject_reason": str},
        keep_default_na=False,
    )
    for path, encoding, source, inverse in (
        ("incidents/12345热线工单.csv", "gbk", "hotline", gcj02_to_wgs84),
        ("incidents/视频智能告警.csv", "utf-8", "video", bd09_to_wgs84),
    ):
        frame = pd.read_csv(city / path, encoding=encoding, dtype=str)
        rows = truth[truth["source"] == source].reset_index(drop=True)
        keep = (
            (rows["reject_reason"] == "") & (rows["has_coordinates"].astype(str) == "True")
        ).to_numpy()
        assert keep.sum() > 100
        lon, lat = inverse(
            frame["经度"].astype(float).to_numpy()[keep],
            frame["纬度"].astype(float).to_numpy()[keep],
        )
        assert (
            _metres(
                lon,
                lat,
                rows["lon"].to_numpy()[keep].astype(float),
                rows["lat"].to_numpy()[keep].astype(float),
            ).max()
            < 1.0
        )
    orgs = pd.read_csv(city / "organisations/法人单位名录.csv", dtype=str)
    org_truth = pd.read_csv(city / "truth/organisations.csv", dtype=str, keep_default_na=False)
    has = orgs["经度"].notna().to_numpy()
    lon, lat = gcj02_to_wgs84(
        orgs["经度"].astype(float).to_numpy()[has], orgs["纬度"].astype(float).to_numpy()[has]
    )
    assert (
        _metres(
            lon,
            lat,
            org_truth["lon"].astype(float).to_numpy()[has],
            org_truth["lat"].astype(float).to_numpy()[has],
        ).max()
        < 1.0
    )


def test_truth_points_lie_in_their_truth_grid(city: Path) -> None:
    grids = pyogrio.read_dataframe(city / GPKG, layer="网格").to_crs("EPSG:4326")
    for name in ("incidents", "organisations", "people", "devices"):
        truth = pd.read_csv(
            city / f"truth/{name}.csv", dtype={"grid_code": str}, keep_default_na=False
        )
        points = gpd.GeoDataFrame(
            truth[["grid_code"]],
            geometry=gpd.points_from_xy(truth["lon"], truth["lat"]),
            crs="EPSG:4326",
        )
        joined = gpd.sjoin(points, grids[["网格编码", "geometry"]], predicate="within", how="left")
        joined = joined[~joined.index.duplicated()]
        assert (joined["网格编码"] == joined["grid_code"]).mean() > 0.999, name


def test_planted_bad_rows_show_their_defect(city: Path) -> None:
    truth = pd.read_csv(city / "truth/incidents.csv", dtype=str, keep_default_na=False)
    assert set(truth["reject_reason"]) - {""} <= set(REJECT_REASONS)
    formats = {
        "hotline": "%Y/%m/%d %H:%M",
        "gridapp": "%Y-%m-%dT%H:%M:%S%z",
        "video": "%Y-%m-%d %H:%M:%S",
    }
    columns = {
        "hotline": ("来电时间", "事件小类"),
        "gridapp": ("上报时间", "事件小类"),
        "video": ("告警时间", "告警类型"),
    }
    for source, path, encoding in (
        ("hotline", "incidents/12345热线工单.csv", "gbk"),
        ("gridapp", "incidents/网格事件.csv", "utf-8"),
        ("video", "incidents/视频智能告警.csv", "utf-8"),
    ):
        frame = pd.read_csv(city / path, encoding=encoding, dtype=str, keep_default_na=False)
        rows = truth[truth["source"] == source].reset_index(drop=True)
        assert len(frame) == len(rows)
        reason = rows["reject_reason"].to_numpy()
        lon = pd.to_numeric(frame["经度"], errors="coerce").to_numpy()
        lat = pd.to_numeric(frame["纬度"], errors="coerce").to_numpy()
        assert (lon[reason == "swapped_latlon"] < 45).all()
        assert (lat[reason == "swapped_latlon"] > 100).all()
        assert (lon[reason == "null_island"] == 0).all()
        outside = reason == "outside_city"
        assert (
            ~(
                (lon[outside] > EXTENT_LON[0] - 0.1)
                & (lon[outside] < EXTENT_LON[1] + 0.1)
                & (lat[outside] > EXTENT_LAT[0] - 0.1)
                & (lat[outside] < EXTENT_LAT[1] + 0.1)
            )
        ).all()
        clean = reason == ""
        assert (
            (lon[clean] > EXTENT_LON[0]) & (lon[clean] < EXTENT_LON[1]) | np.isnan(lon[clean])
        ).all()
        time_column, category_column = columns[source]

        def parses(text: str, fmt: str = formats[source]) -> bool:
            try:
                datetime.strptime(text, fmt)
            except ValueError:
                return False
            return True

        times = frame[time_column].to_numpy()
        assert not any(parses(t) for t in times[reason == "bad_time"])
        assert all(parses(t) for t in times[reason != "bad_time"])
        assert (frame[category_column].to_numpy()[reason == "missing_category"] == "").all()
        assert (frame[category_column].to_numpy()[reason != "missing_category"] != "").all()
        keys = frame.iloc[:, 0].to_numpy()
        later = pd.Series(keys).duplicated(keep="last").to_numpy()
        assert (later == (reason == "duplicate_key")).all()
    share_bad = (
        truth["reject_reason"]
        .isin(["swapped_latlon", "null_island", "outside_city", "bad_time", "missing_category"])
        .mean()
    )
    assert 0.02 <= share_bad <= 0.04
    assert 0.005 <= (truth["reject_reason"] == "duplicate_key").mean() <= 0.015
    hotline = truth[truth["source"] == "hotline"]
    assert 0.07 <= (hotline["has_coordinates"] == "False").mean() <= 0.13


def test_incidents_have_rhythm_and_a_planted_emerging_hotspot(city: Path) -> None:
    import json

    truth = pd.read_csv(city / "truth/incidents.csv", dtype=str, keep_default_na=False)
    reported = pd.to_datetime(truth["reported_at"])
    by_month = reported.dt.month.value_counts()
    assert by_month[7] > 1.2 * by_month[4]  # summer street-order peak
    heating = truth[truth["category"] == "供暖问题"]
    assert (
        pd.to_datetime(heating["reported_at"]).dt.month.isin([10, 11, 12, 1, 2, 3, 4]).mean() > 0.9
    )
    hotspots = json.loads((city / "truth/hotspots.json").read_text("utf-8"))["hotspots"]
    names = {h["name"] for h in hotspots}
    assert names == {"market", "nightlife", "industrial", "emerging", "emerging-latest"}
    all_days = pd.to_datetime(truth["reported_at"]).dt.tz_localize(None).dt.normalize()
    for name in ("emerging", "emerging-latest"):
        emerging = next(h for h in hotspots if h["name"] == name)
        # a superseded row (duplicate_key) is repeated later under the same key
        planted = truth[(truth["hotspot"] == name) & (truth["reject_reason"] != "duplicate_key")]
        assert len(planted) == emerging["planted_rows"] > 20
        days = all_days[planted.index]
        assert days.min() >= pd.Timestamp(emerging["first_day"])
        assert days.max() <= pd.Timestamp(emerging["last_day"])
        span = pd.Timestamp(emerging["last_day"]) - pd.Timestamp(emerging["first_day"])
        assert span.days == 13
        assert set(planted["grid_code"]) <= set(emerging["grid_codes"])
    latest = next(h for h in hotspots if h["name"] == "emerging-latest")
    assert pd.Timestamp(latest["last_day"]) == all_days.max()  # the data's last day


def test_a_city_without_planted_hotspots(tmp_path: Path) -> None:
    report = generate_city(tmp_path / "quiet", scale=0.01, seed=1, planted_hotspots=False)
    truth = pd.read_csv(tmp_path / "quiet/truth/incidents.csv", dtype=str, keep_default_na=False)
    assert report.hotspots == []
    assert (truth["hotspot"] == "").all()
    target = targets_for_scale(0.01).incidents
    assert abs(report.counts["incidents"] - target) <= 0.1 * target


# --- reproducibility and the pipeline -------------------------------------------------------


def test_same_seed_gives_identical_files(city: Path, tmp_path: Path) -> None:
    again = tmp_path / "wuhai"
    generate_city(again, scale=SCALE, seed=1)
    first, second = _hashes(city), _hashes(again)
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_different_seeds_give_different_cities(city: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate_city(other, scale=SCALE, seed=2)
    first, second = _hashes(city), _hashes(other)
    for name in (
        GPKG,
        "buildings/建筑物.shp",
        "addresses/标准地址.csv",
        "truth/people.csv",
        "incidents/网格事件.csv",
    ):
        assert first[name] != second[name], name
    a = pyogrio.read_dataframe(city / GPKG, layer="网格")
    b = pyogrio.read_dataframe(other / GPKG, layer="网格")
    assert (
        shapely.union_all(a.geometry.to_numpy())
        .symmetric_difference(shapely.union_all(b.geometry.to_numpy()))
        .area
        > 1e6
    )


def test_report_matches_the_manifest(city: Path, report: dict[str, object]) -> None:
    assert report["seed"] == 1
    assert report["scale"] == SCALE
    files = report["files"]
    assert isinstance(files, list)
    for name in files:
        assert (city / name).exists(), name
    assert set(report["reject_reasons"]) == set(REJECT_REASONS)  # type: ignore[call-overload]


def test_streaming_xlsx_writer_round_trips_and_is_reproducible(tmp_path: Path) -> None:
    from geoplatform.demo.writers import XlsxStreamWriter

    rows = [
        [1, "张三", "", "A&B <c>"],
        [2, "李四", None, "x"],
        [3, "王五", "150302199001011234", "y"],
    ]
    for name in ("a.xlsx", "b.xlsx"):
        with XlsxStreamWriter(
            tmp_path / name, "实有人口", ["序号", "姓名", "证件", "备注"]
        ) as sheet:
            sheet.write_rows(rows[:2])
            sheet.write_rows(rows[2:])
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    frame = pd.read_excel(tmp_path / "a.xlsx", sheet_name="实有人口", dtype=str, engine="openpyxl")
    assert list(frame.columns) == ["序号", "姓名", "证件", "备注"]
    assert frame["备注"].tolist() == ["A&B <c>", "x", "y"]
    assert frame["证件"].isna().tolist() == [True, True, False]
    assert frame["证件"].iloc[2] == "150302199001011234"
    assert frame["序号"].tolist() == ["1", "2", "3"]
