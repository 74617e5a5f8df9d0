"""A small delivery from a city the demo generator never made, shaped the other way round.

Two districts of 嘉兴市 (Zhejiang) in CGCS2000 Gauss-Krüger without zone prefix (EPSG:4549,
central meridian 120°E): no city polygon (the pipeline declares the city), a standard-address
table that names its district, street and community in words (with 街道办事处 / 社区居委会
variants and two communities of one name), a GBK road shapefile without .cpg carrying former
names and door ranges, a compound-alias workbook, a landmark CSV in GCJ-02, a roster with
household keys and a hotline CSV with a description and a confidence to carry as attributes.
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geoplatform.spatial.chinese_offsets import wgs84_to_gcj02

WEST, EAST, SOUTH, NORTH = 120.70, 120.80, 30.72, 30.78
MID = 120.75
CITY = ("330400000000", "嘉兴市")
DISTRICTS = {"330402000000": "南湖区", "330411000000": "秀洲区"}
STREETS = {"330402001000": "新兴街道", "330411001000": "新城街道"}
#: Two communities called 东栅社区, one in each district: a bare name is ambiguous.
COMMUNITIES = {"330402001001": "东栅社区", "330411001001": "东栅社区"}
EXTENT = (120.6, 30.6, 120.9, 30.9)


def _box(x0: float, x1: float) -> shapely.Polygon:
    return shapely.segmentize(shapely.box(x0, SOUTH, x1, NORTH), 0.002)


def _halves() -> dict[str, shapely.Polygon]:
    return {"330402": _box(WEST, MID), "330411": _box(MID, EAST)}


def write_boundaries(out: Path) -> None:
    halves = _halves()
    rows = []
    for codes, level in ((DISTRICTS, "区"), (STREETS, "街道"), (COMMUNITIES, "社区")):
        for code, name in codes.items():
            rows.append((code, level, name, halves[code[:6]]))
    frame = gpd.GeoDataFrame(
        {
            "行政代码": [r[0] for r in rows],
            "层级": [r[1] for r in rows],
            "名称": [r[2] for r in rows],
        },
        geometry=[r[3] for r in rows],
        crs=4326,
    ).to_crs(4549)
    frame.to_file(out / "区划.gpkg", layer="区划", driver="GPKG")
    grids = gpd.GeoDataFrame(
        {"网格号": [c + "001" for c in COMMUNITIES], "网格名": ["一网格", "二网格"]},
        geometry=[halves[c[:6]] for c in COMMUNITIES],
        crs=4326,
    ).to_crs(4549)
    grids.to_file(out / "区划.gpkg", layer="网格", driver="GPKG")


#: Standard addresses by name: (key, district, street, community, compound, building, lon, lat).
ADDRESSES = [
    ("A1", "南湖区", "新兴街道办事处", "东栅社区居委会", "梅湾苑", "1", 120.72, 30.75),
    ("A2", "南湖", "新兴街道", "东栅社区", "梅湾苑", "2", 120.721, 30.751),
    ("A3", "秀洲区", "新城街道", "东栅社区", "秀水园", "1", 120.78, 30.75),
    ("A4", None, None, "东栅社区", "无名苑", "1", 120.73, 30.74),  # two 东栅社区: ambiguous
    ("A5", "南湖区", "新兴街道", "不存在社区", "梅湾苑", "3", 120.722, 30.752),  # unknown
]


def write_addresses(out: Path) -> None:
    frame = pd.DataFrame(
        {
            "编码": [a[0] for a in ADDRESSES],
            "所属区县": [a[1] for a in ADDRESSES],
            "所属街道": [a[2] for a in ADDRESSES],
            "所属社区": [a[3] for a in ADDRESSES],
            "小区": [a[4] for a in ADDRESSES],
            "楼号": [a[5] for a in ADDRESSES],
            "地址": [f"嘉兴市{a[1] or ''}{a[4]}{a[5]}幢" for a in ADDRESSES],
            "类型": ["楼栋"] * len(ADDRESSES),
            "经度": [a[6] for a in ADDRESSES],
            "纬度": [a[7] for a in ADDRESSES],
        }
    )
    frame.to_csv(out / "标准地址.csv", index=False, encoding="utf-8-sig")


#: Door plates: (key, road, number, kind as written, compound, lon, lat).
DOORS = [
    ("D1", "中山路", "12", "大门", "梅湾苑", 120.7205, 30.7502),
    ("D2", "中山路", "15号", "独栋", None, 120.73, 30.7501),
]


def write_doors(out: Path) -> None:
    pd.DataFrame(
        {
            "门牌编码": [d[0] for d in DOORS],
            "街路巷": [d[1] for d in DOORS],
            "门牌号": [d[2] for d in DOORS],
            "类型": [d[3] for d in DOORS],
            "所属小区": [d[4] for d in DOORS],
            "区县": ["南湖区"] * len(DOORS),
            "经度": [d[5] for d in DOORS],
            "纬度": [d[6] for d in DOORS],
        }
    ).to_csv(out / "门牌.csv", index=False, encoding="utf-8-sig")


ROADS = [
    (
        "R1",
        "中山路",
        "解放路；人民路",
        "主干路",
        1,
        199,
        "南湖区",
        [(120.70, 30.75), (120.75, 30.75)],
    ),
    ("R2", "梅湾街", None, "支路", 2, 88, "南湖区", [(120.72, 30.72), (120.72, 30.78)]),
    ("R3", "芦席汇", "芦席弄", "巷", None, None, "秀洲区", [(120.76, 30.74), (120.79, 30.76)]),
]


def write_roads(out: Path) -> None:
    frame = gpd.GeoDataFrame(
        {
            "道路编码": [r[0] for r in ROADS],
            "道路名称": [r[1] for r in ROADS],
            "曾用名": [r[2] for r in ROADS],
            "等级": [r[3] for r in ROADS],
            "起始门牌": [r[4] for r in ROADS],
            "终止门牌": [r[5] for r in ROADS],
            "区县": [r[6] for r in ROADS],
        },
        geometry=[shapely.LineString(r[7]) for r in ROADS],
        crs=4326,
    ).to_crs(4549)
    frame.to_file(out / "道路.shp", encoding="gbk")
    (out / "道路.cpg").unlink(missing_ok=True)  # departments' shapefiles come without it


def write_aliases(out: Path) -> None:
    pd.DataFrame(
        {
            "别名": ["梅湾", "秀水"],
            "标准名称": ["梅湾苑", "秀水园"],
            "社区": ["东栅社区", "东栅社区"],
            "街道": ["新兴街道", "新城街道"],
        }
    ).to_excel(out / "小区别名.xlsx", index=False, sheet_name="别名")


def write_landmarks(out: Path) -> None:
    lon, lat = wgs84_to_gcj02([120.73, 120.77], [30.76, 30.74])
    pd.DataFrame(
        {
            "POI编号": ["P1", "P2"],
            "名称": ["嘉兴市第一中学", "南湖区中心医院"],
            "俗称": ["一中、嘉兴一中", "中心医院"],
            "类别": ["school", "hospital"],
            "经度": list(lon),
            "纬度": list(lat),
        }
    ).to_csv(out / "地标.csv", index=False, encoding="utf-8")


def write_hotline(out: Path) -> None:
    with (out / "12345.csv").open("w", encoding="gbk", newline="") as f:
        w = csv.writer(f)
        w.writerow(["工单号", "大类", "状态", "上报时间", "经度", "纬度", "问题描述", "置信度"])
        w.writerow(
            ["H1", "市容环境", "已受理", "2025-03-01 08:00", 120.72, 30.75, "路灯不亮", "0.9"]
        )
        w.writerow(["H2", "街面秩序", "处理中", "2025-03-01 09:00", 120.77, 30.75, "占道经营", "x"])


#: Residents: (person key, household key, address as written).
RESIDENTS = [
    ("P1", "HH-01", "浙江省嘉兴市南湖区新兴街道东栅社区梅湾苑2幢"),
    ("P2", "HH-01", "梅湾2幢"),  # the published alias of 梅湾苑
    ("P3", "HH-02", "秀洲区秀水园1幢"),
]


def write_residents(out: Path) -> None:
    from geoplatform.identifiers import make_id_numbers

    n = len(RESIDENTS)
    ids = make_id_numbers([330402] * n, [f"1980-05-{i + 1:02d}" for i in range(n)], [11] * n)
    pd.DataFrame(
        {
            "人员编号": [r[0] for r in RESIDENTS],
            "户号": [r[1] for r in RESIDENTS],
            "身份证号": list(ids),
            "居住地址": [r[2] for r in RESIDENTS],
        }
    ).to_excel(out / "实有人口.xlsx", index=False, sheet_name="人口")


PIPELINE = """\
# A city in another province, delivered another way (tests/any_city_delivery.py)
pipeline: anycity
root: ${ANYCITY_DIR:-.}
city: {extent: [120.6, 30.6, 120.9, 30.9], code: "330400000000", name: 嘉兴市}
sources:
  - name: admin
    entity: admin_areas
    format: geopackage
    path: 区划.gpkg
    layer: 区划
    crs: EPSG:4549
    key: 行政代码
    columns: {code: 行政代码, level: 层级, name: 名称}
    constants: {edition: 2024}
    values: {level: {区: district, 街道: street, 社区: community}}
  - name: grid
    entity: grids
    format: geopackage
    path: 区划.gpkg
    layer: 网格
    crs: EPSG:4549
    key: 网格号
    columns: {code: 网格号, name: 网格名}
    constants: {edition: 2024}
  - name: addresses
    entity: standard_addresses
    format: csv
    path: 标准地址.csv
    crs: wgs84
    key: 编码
    x: 经度
    y: 纬度
    columns: {address: 地址, level: 类型, district: 所属区县, street: 所属街道,
              community: 所属社区, compound: 小区, building_number: 楼号}
    values: {level: {楼栋: building}}
  - name: doors
    entity: door_plates
    format: csv
    path: 门牌.csv
    crs: wgs84
    key: 门牌编码
    x: 经度
    y: 纬度
    columns: {road: 街路巷, door_number: 门牌号, door_kind: 类型, compound: 所属小区,
              district: 区县}
  - name: roads
    entity: roads
    format: shapefile
    path: 道路.shp
    encoding: gbk
    crs: EPSG:4549
    key: 道路编码
    columns: {name: 道路名称, former_names: 曾用名, kind: 等级, door_min: 起始门牌,
              door_max: 终止门牌, district: 区县}
  - name: aliases
    entity: compound_aliases
    format: xlsx
    path: 小区别名.xlsx
    sheet: 别名
    key: [别名, 标准名称]
    columns: {alias: 别名, compound: 标准名称, community: 社区, street: 街道}
  - name: landmarks
    entity: landmarks
    format: csv
    path: 地标.csv
    crs: gcj02
    key: POI编号
    x: 经度
    y: 纬度
    columns: {name: 名称, aliases: 俗称, kind: 类别}
  - name: hotline
    entity: incidents
    format: csv
    path: 12345.csv
    encoding: gbk
    crs: wgs84
    mode: append
    key: 工单号
    x: 经度
    y: 纬度
    columns: {category: 大类, status: 状态, reported_at: 上报时间}
    constants: {channel: hotline}
    values: {status: {已受理: accepted, 处理中: handling}}
    time_format: "%Y-%m-%d %H:%M"
    attributes: {description: 问题描述, confidence: {column: 置信度, type: float}}
  - name: residents
    entity: people
    format: xlsx
    path: 实有人口.xlsx
    sheet: 人口
    key: 人员编号
    address: 居住地址
    columns: {household_key: 户号, id_number: 身份证号}
"""


def write_delivery(out: Path) -> Path:
    """Write the delivery and its pipeline into ``out``; return the pipeline's path."""
    out.mkdir(parents=True, exist_ok=True)
    write_boundaries(out)
    write_addresses(out)
    write_roads(out)
    write_doors(out)
    write_aliases(out)
    write_landmarks(out)
    write_hotline(out)
    write_residents(out)
    path = out / "pipeline.yaml"
    path.write_text(PIPELINE, encoding="utf-8")
    return path
