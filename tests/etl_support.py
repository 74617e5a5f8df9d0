"""A small messy delivery for the ETL tests, written the way departments send files.

A 2×2-grid city inside Wuhai's extent, delivered as: admin areas and grids in a GeoPackage in
CGCS2000 GK zone 36 with zone prefix (EPSG:4524); buildings as a Shapefile in EPSG:4545 whose DBF
is GBK without a .cpg; incidents as a GBK hotline CSV in GCJ-02 with "2025/3/5 14:03" times, a
UTF-8-with-BOM grid-app CSV in WGS84 with ISO times and a BD-09 video-AI CSV; people as XLSX
with Chinese headers; organisations as CSV with credit codes. Bad rows of every reason are
planted, and `Truth` says what should become of each row.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplatform.identifiers import credit_code_check_character, make_id_numbers
from geoplatform.spatial.chinese_offsets import wgs84_to_bd09, wgs84_to_gcj02

WEST, EAST, SOUTH, NORTH = 106.70, 106.90, 39.60, 39.70
MID_LON, MID_LAT = 106.80, 39.65
CITY = "150300000000"
DISTRICT = "150302000000"
STREET = "150302001000"
COMMUNITIES = {"150302001001": (WEST, MID_LON), "150302001002": (MID_LON, EAST)}


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.segmentize(shapely.box(x0, y0, x1, y1), 0.002)


def grid_polygons() -> dict[str, shapely.Polygon]:
    out = {}
    for community, (x0, x1) in COMMUNITIES.items():
        out[community + "001"] = box(x0, MID_LAT, x1, NORTH)
        out[community + "002"] = box(x0, SOUTH, x1, MID_LAT)
    return out


def true_grid(lon: float, lat: float) -> str:
    community = "150302001001" if lon < MID_LON else "150302001002"
    return community + ("001" if lat >= MID_LAT else "002")


@dataclass
class Truth:
    """Expected outcome per source: loaded keys, rejected keys with their reason, true points."""

    loaded: dict[str, set[str]] = field(default_factory=dict)
    rejected: dict[str, dict[int, str]] = field(default_factory=dict)  # row number -> reason
    points: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def write_city(out: Path, *, incidents: int = 60, seed: int = 7, days: int = 3) -> Truth:
    """Write every file and `pipeline.yaml` into `out`; return the truth."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    truth = Truth()
    _admin_and_grids(out)
    _buildings(out, truth)
    _incidents(out, truth, rng, incidents, days)
    _people(out, truth, rng)
    _organisations(out, truth, rng)
    (out / "pipeline.yaml").write_text(PIPELINE, encoding="utf-8")
    return truth


def _admin_and_grids(out: Path) -> None:
    admin = [
        (CITY, "city", "乌海市", box(WEST, SOUTH, EAST, NORTH)),
        (DISTRICT, "district", "海勃湾区", box(WEST, SOUTH, EAST, NORTH)),
        (STREET, "street", "凤凰岭街道", box(WEST, SOUTH, EAST, NORTH)),
    ] + [
        (c, "community", f"社区{c[-3:]}", box(x0, SOUTH, x1, NORTH))
        for c, (x0, x1) in COMMUNITIES.items()
    ]
    frame = gpd.GeoDataFrame(
        {
            "区划代码": [a[0] for a in admin],
            "级别": [a[1] for a in admin],
            "名称": [a[2] for a in admin],
            "版本": ["2024"] * len(admin),
        },
        geometry=[a[3] for a in admin],
        crs=4326,
    ).to_crs(4524)
    frame.to_file(out / "boundaries.gpkg", layer="admin", driver="GPKG")
    grids = grid_polygons()
    gframe = gpd.GeoDataFrame(
        {
            "网格编码": list(grids),
            "网格名称": [f"第{i + 1}网格" for i in range(len(grids))],
            "网格类型": ["基础网格", "专属网格", "基础网格", "基础网格"],
            "专属类型": [None, "school", None, None],
        },
        geometry=list(grids.values()),
        crs=4326,
    ).to_crs(4524)
    gframe.to_file(out / "boundaries.gpkg", layer="grids", driver="GPKG")


def _buildings(out: Path, truth: Truth) -> None:
    names, geoms = [], []
    rng = np.random.default_rng(3)
    for i in range(20):
        x = rng.uniform(WEST + 0.005, EAST - 0.005)
        y = rng.uniform(SOUTH + 0.005, NORTH - 0.005)
        names.append(f"银城华府{i + 1}号楼")
        geoms.append(shapely.box(x, y, x + 0.0003, y + 0.0002))
    # a bow-tie (self-intersecting): repaired and loaded
    x, y = 106.75, 39.62
    names.append("自交楼")
    geoms.append(
        shapely.Polygon([(x, y), (x + 0.0004, y + 0.0003), (x + 0.0004, y), (x, y + 0.0003)])
    )
    # collapsed to a line: rejected
    names.append("退化楼")
    geoms.append(shapely.Polygon([(x, y), (x + 0.0004, y), (x, y), (x + 0.0004, y)]))
    # outside the city: rejected
    names.append("城外楼")
    geoms.append(shapely.box(107.1, 39.8, 107.1003, 39.8002))
    keys = [f"B{i:04d}" for i in range(len(names))]
    frame = gpd.GeoDataFrame(
        {"编号": keys, "名称": names, "层数": [6] * len(names)}, geometry=geoms, crs=4326
    ).to_crs(4545)
    path = out / "buildings.shp"
    frame.to_file(path, driver="ESRI Shapefile", encoding="gbk")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    truth.rows["buildings"] = len(keys)
    truth.loaded["buildings"] = set(keys[:-2])
    truth.rejected["buildings"] = {len(keys) - 1: "invalid_geometry", len(keys): "outside_city"}


def _point(rng: np.random.Generator) -> tuple[float, float]:
    """A point at least ~100 m from every grid edge."""
    while True:
        lon = float(rng.uniform(WEST + 0.002, EAST - 0.002))
        lat = float(rng.uniform(SOUTH + 0.002, NORTH - 0.002))
        if abs(lon - MID_LON) > 0.002 and abs(lat - MID_LAT) > 0.002:
            return lon, lat


def incident_rows(
    rng: np.random.Generator, n: int, start: pd.Timestamp, prefix: str
) -> tuple[list[dict[str, str]], dict[str, tuple[float, float]]]:
    rows, points = [], {}
    for i in range(n):
        lon, lat = _point(rng)
        key = f"{prefix}{i:06d}"
        when = start + pd.Timedelta(minutes=int(rng.integers(0, 24 * 60 - 120)))
        closed = i % 3 == 0
        rows.append(
            {
                "key": key,
                "lon": lon,
                "lat": lat,
                "reported": when,
                "closed": (when + pd.Timedelta(hours=1)) if closed else None,
                "status": "已结案" if closed else "处置中",
                "category": ["市容环境", "街面秩序", "施工管理"][i % 3],
            }
        )
        points[key] = (lon, lat)
    return rows, points


def _hotline_line(r: dict[str, object]) -> list[str]:
    glon, glat = wgs84_to_gcj02(np.array([r["lon"]]), np.array([r["lat"]]))
    fmt = "%Y/%m/%d %H:%M"
    reported = pd.Timestamp(r["reported"])  # type: ignore[arg-type]
    closed = r["closed"]
    return [
        str(r["key"]),
        str(r["category"]),
        str(r["status"]),
        f"{reported.year}/{reported.month}/{reported.day} {reported:%H:%M}",
        pd.Timestamp(closed).strftime(fmt) if closed is not None else "",  # type: ignore[arg-type]
        f"{glon[0]:.8f}",
        f"{glat[0]:.8f}",
        "海勃湾区某路",
    ]


HOTLINE_HEADER = [
    "工单编号",
    "事件大类",
    "办理状态",
    "上报时间",
    "结案时间",
    "经度",
    "纬度",
    "地址",
]


def write_hotline(path: Path, rows: list[list[str]], *, mode: str = "w") -> None:
    with path.open(mode, encoding="gbk", newline="") as fh:
        writer = csv.writer(fh)
        if mode == "w":
            writer.writerow(HOTLINE_HEADER)
        writer.writerows(rows)


def _incidents(out: Path, truth: Truth, rng: np.random.Generator, n: int, days: int) -> None:
    # hotline: GBK, GCJ-02, "2025/3/5 14:03"; n rows a day over `days` days
    lines: list[list[str]] = []
    points: dict[str, tuple[float, float]] = {}
    for day in range(days):
        rows, pts = incident_rows(
            rng, n, pd.Timestamp("2025-03-05") + pd.Timedelta(days=day), f"H{day}"
        )
        lines += [_hotline_line(r) for r in rows]
        points.update(pts)
    bad = {}
    lines.append(["HBAD1", "市容环境", "处置中", "2025/3/5 10:00", "", "0", "0", ""])
    bad[len(lines)] = "null_island"
    lines.append(["HBAD2", "市容环境", "处置中", "2025/3/5 10:00", "", "116.39", "39.91", ""])
    bad[len(lines)] = "outside_city"
    lines.append(["HBAD3", "市容环境", "处置中", "2025/13/45 10:00", "", "106.75", "39.62", ""])
    bad[len(lines)] = "bad_time"
    lines.append(["HBAD4", "", "处置中", "2025/3/5 10:00", "", "106.75", "39.62", ""])
    bad[len(lines)] = "missing_category"
    lines.append(["HBAD5", "市容环境", "已结案", "2025/3/5 10:00", "", "106.75", "39.62", ""])
    bad[len(lines)] = "inconsistent_status"
    lines.append(["HBAD6", "市容环境", "处置中", "2025/3/5 10:00", "", "", "", ""])
    bad[len(lines)] = "missing_coordinates"
    # a swapped pair (lat, lon): rejected by default (`on_swapped: correct` would fix it)
    swap_lon, swap_lat = _point(rng)
    g = wgs84_to_gcj02(np.array([swap_lon]), np.array([swap_lat]))
    lines.append(
        [
            "HSWAP",
            "市容环境",
            "处置中",
            "2025/3/5 10:00",
            "",
            f"{g[1][0]:.8f}",
            f"{g[0][0]:.8f}",
            "",
        ]
    )
    bad[len(lines)] = "swapped_latlon"
    # a repeated key: the first occurrence is rejected, the last wins
    first = list(lines[0])
    lines.insert(0, [first[0], "其他事件", *first[2:]])
    bad = {k + 1: v for k, v in bad.items()}
    bad[1] = "duplicate_key"
    write_hotline(out / "hotline.csv", lines)
    truth.rows["hotline"] = len(lines)
    truth.rejected["hotline"] = bad
    truth.points["hotline"] = points

    # grid app: UTF-8 with BOM, WGS84, ISO times
    rows, pts = incident_rows(rng, n, pd.Timestamp("2025-03-06"), "G")
    app = pd.DataFrame(
        {
            "事件编号": [r["key"] for r in rows],
            "类别": [r["category"] for r in rows],
            "状态": [r["status"] for r in rows],
            "上报时间": [pd.Timestamp(r["reported"]).isoformat() for r in rows],  # type: ignore[arg-type]
            "结案时间": [
                pd.Timestamp(r["closed"]).isoformat() if r["closed"] else "" for r in rows
            ],  # type: ignore[arg-type]
            "lon": [f"{r['lon']:.8f}" for r in rows],
            "lat": [f"{r['lat']:.8f}" for r in rows],
        }
    )
    app.to_csv(out / "grid_app.csv", index=False, encoding="utf-8-sig")
    truth.rows["grid_app"] = len(app)
    truth.rejected["grid_app"] = {}
    truth.points["grid_app"] = pts

    # video AI: BD-09
    rows, pts = incident_rows(rng, n, pd.Timestamp("2025-03-07"), "V")
    blon, blat = wgs84_to_bd09(
        np.array([r["lon"] for r in rows]), np.array([r["lat"] for r in rows])
    )
    video = pd.DataFrame(
        {
            "告警编号": [r["key"] for r in rows],
            "告警类型": ["暴露垃圾"] * len(rows),
            "告警时间": [pd.Timestamp(r["reported"]).strftime("%Y-%m-%d %H:%M:%S") for r in rows],  # type: ignore[arg-type]
            "bd_lng": [f"{v:.8f}" for v in blon],
            "bd_lat": [f"{v:.8f}" for v in blat],
        }
    )
    video.to_csv(out / "video_ai.csv", index=False, encoding="utf-8")
    truth.rows["video_ai"] = len(video)
    truth.rejected["video_ai"] = {}
    truth.points["video_ai"] = pts


def _people(out: Path, truth: Truth, rng: np.random.Generator) -> None:
    n = 30
    ids = make_id_numbers(
        np.full(n, 150302),
        np.array(["1980-01-01"] * n, dtype="datetime64[D]") + rng.integers(0, 9000, n),
        rng.integers(100, 999, n),
    ).astype(object)
    lowercase = [i for i in range(n) if ids[i].endswith("X")]
    for i in lowercase[:1]:
        ids[i] = ids[i][:-1] + "x"  # lower-case x: valid once upper-cased
    bad_check = 5
    ids[bad_check] = ids[bad_check][:-1] + ("0" if ids[bad_check][-1] != "0" else "1")
    points = [_point(rng) for _ in range(n)]
    frame = pd.DataFrame(
        {
            "人员编号": [f"P{i:05d}" for i in range(n)],
            "姓名": [f"张{i}" for i in range(n)],
            "公民身份号码": ids,
            "联系电话": [f"1390000{i:04d}" for i in range(n)],
            "性别": ["男" if i % 2 else "女" for i in range(n)],
            "经度": [p[0] for p in points],
            "纬度": [p[1] for p in points],
        }
    )
    frame.to_excel(out / "people.xlsx", sheet_name="实有人口", index=False)
    truth.rows["people"] = n
    truth.rejected["people"] = {bad_check + 1: "invalid_id_number"}
    truth.points["people"] = {f"P{i:05d}": points[i] for i in range(n) if i != bad_check}


def _organisations(out: Path, truth: Truth, rng: np.random.Generator) -> None:
    n = 12
    codes = []
    for i in range(n):
        body = ("91" if i % 2 else "N2") + "150302" + f"MA{i:07d}"[:9]
        body = body[:17]
        codes.append(body + credit_code_check_character(body))
    codes[3] = codes[3][:-1] + ("1" if codes[3][-1] != "1" else "2")  # wrong check character
    points = [_point(rng) for _ in range(n)]
    g = wgs84_to_gcj02(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
    frame = pd.DataFrame(
        {
            "统一社会信用代码": codes,
            "单位名称": [f"乌海市鑫源商贸{i}有限公司" for i in range(n)],
            "经度": [f"{v:.8f}" for v in g[0]],
            "纬度": [f"{v:.8f}" for v in g[1]],
        }
    )
    frame.to_csv(out / "organisations.csv", index=False, encoding="utf-8")
    truth.rows["organisations"] = n
    truth.rejected["organisations"] = {4: "invalid_credit_code"}
    truth.points["organisations"] = {codes[i]: points[i] for i in range(n) if i != 3}


PIPELINE = """\
pipeline: test_city
timezone: Asia/Shanghai
city:
  extent: [106.6, 39.2, 107.2, 39.9]
sources:
  - name: admin
    entity: admin_areas
    format: geopackage
    path: boundaries.gpkg
    layer: admin
    columns: {code: 区划代码, level: 级别, name: 名称, edition: 版本}
  - name: grids
    entity: grids
    format: geopackage
    path: boundaries.gpkg
    layer: grids
    crs: EPSG:4524
    columns: {code: 网格编码, name: 网格名称, kind: 网格类型, special_type: 专属类型}
    constants: {edition: 2024}
  - name: buildings
    entity: buildings
    format: shapefile
    path: buildings.shp
    encoding: gbk
    crs: EPSG:4545
    key: 编号
    columns: {name: 名称, floors: 层数}
  - name: hotline
    entity: incidents
    format: csv
    path: hotline.csv
    encoding: gbk
    crs: gcj02
    mode: append
    key: 工单编号
    x: 经度
    y: 纬度
    columns: {category: 事件大类, status: 办理状态, reported_at: 上报时间, closed_at: 结案时间}
    constants: {channel: hotline}
    values: {status: {已结案: closed, 处置中: handling}}
    time_format: "%Y/%m/%d %H:%M"
    watermark: reported_at
  - name: grid_app
    entity: incidents
    format: csv
    path: grid_app.csv
    encoding: utf-8
    crs: EPSG:4326
    mode: append
    key: 事件编号
    x: lon
    y: lat
    columns: {category: 类别, status: 状态, reported_at: 上报时间, closed_at: 结案时间}
    constants: {channel: grid_app}
    values: {status: {已结案: closed, 处置中: handling}}
  - name: video_ai
    entity: incidents
    format: csv
    path: video_ai.csv
    crs: bd09
    mode: append
    key: 告警编号
    x: bd_lng
    y: bd_lat
    columns: {category: 告警类型, reported_at: 告警时间}
    constants: {channel: video_ai, status: reported}
    time_format: "%Y-%m-%d %H:%M:%S"
  - name: people
    entity: people
    format: xlsx
    path: people.xlsx
    sheet: 实有人口
    crs: EPSG:4326
    key: 人员编号
    x: 经度
    y: 纬度
    columns: {id_number: 公民身份号码, name: 姓名, phone: 联系电话, gender: 性别}
  - name: organisations
    entity: organisations
    format: csv
    path: organisations.csv
    crs: gcj02
    key: 统一社会信用代码
    x: 经度
    y: 纬度
    columns: {name: 单位名称, credit_code: 统一社会信用代码}
"""
