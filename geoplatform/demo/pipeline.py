"""The pipeline definition that loads a generated city: one YAML entry per delivered source,
in the format :mod:`geoplatform.etl.pipeline` validates (paths relative to the YAML file).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from geoplatform.demo.config import EXTENT_LAT, EXTENT_LON, TIME_ZONE
from geoplatform.demo.devices import DEVICE_FILE
from geoplatform.demo.incident_files import FILES as INCIDENT_FILES
from geoplatform.demo.organisations import ORGANISATION_FILE
from geoplatform.demo.people import RESIDENT_SHEET

BOUNDARIES_FILE = "boundaries/行政区划与网格.gpkg"
ADMIN_LAYER = "行政区划"
GRID_LAYER = "网格"
ROAD_LAYER = "道路中心线"
BUILDINGS_FILE = "buildings/建筑物.shp"
ADDRESSES_FILE = "addresses/标准地址.csv"

STATUS_VALUES = {
    "待受理": "reported",
    "已受理": "accepted",
    "已派遣": "dispatched",
    "已处置": "handled",
    "已核查": "verified",
    "已结案": "closed",
    "不予受理": "rejected",
}
DEMAND_VALUES = {
    "咨询": "consult",
    "投诉": "complaint",
    "建议": "suggestion",
    "求助": "help",
    "举报": "report",
}


def pipeline_sources() -> list[dict[str, Any]]:
    """Every source of a demo city, paths relative to the city folder."""
    incident_common = {
        "entity": "incidents",
        "format": "csv",
        "mode": "append",
        "watermark": "reported_at",
    }
    return [
        {
            "name": "admin_areas",
            "entity": "admin_areas",
            "format": "geopackage",
            "path": BOUNDARIES_FILE,
            "layer": ADMIN_LAYER,
            "crs": "EPSG:4524",
            "mode": "snapshot",
            "key": "区划代码",
            "columns": {
                "code": "区划代码",
                "name": "名称",
                "level": "级别",
                "parent_code": "上级代码",
                "edition": "版本年份",
            },
            "values": {
                "level": {
                    "市": "city",
                    "区": "district",
                    "街道": "street",
                    "镇": "street",
                    "社区": "community",
                    "村": "community",
                }
            },
        },
        {
            "name": "grids",
            "entity": "grids",
            "format": "geopackage",
            "path": BOUNDARIES_FILE,
            "layer": GRID_LAYER,
            "crs": "EPSG:4524",
            "mode": "snapshot",
            "key": "网格编码",
            "columns": {
                "code": "网格编码",
                "name": "网格名称",
                "kind": "网格类型",
                "special_type": "专属类型",
                "community_code": "所属社区代码",
                "edition": "版本年份",
            },
            "values": {
                "kind": {"基础网格": "basic", "专属网格": "special"},
                "special_type": {
                    "学校": "school",
                    "医院": "hospital",
                    "工业园区": "industrial_park",
                    "市场": "market",
                },
            },
        },
        {
            "name": "buildings",
            "entity": "buildings",
            "format": "shapefile",
            "path": BUILDINGS_FILE,
            "encoding": "gbk",
            "crs": "EPSG:4545",
            "mode": "snapshot",
            "key": "建筑编号",
            "columns": {
                "name": "建筑名称",
                "compound": "小区名称",
                "building_number": "楼号",
                "use_type": "用途",
                "floors": "层数",
                "address": "标准地址",
            },
        },
        {
            "name": "standard_addresses",
            "entity": "standard_addresses",
            "format": "csv",
            "path": ADDRESSES_FILE,
            "encoding": "utf-8-sig",
            "crs": "EPSG:4545",
            "mode": "snapshot",
            "key": "地址编码",
            "x": "X坐标",
            "y": "Y坐标",
            "columns": {
                "address": "标准地址",
                "level": "地址类型",
                "district_code": "区县代码",
                "street_code": "街道代码",
                "community_code": "社区代码",
                "road": "街路巷",
                "door_number": "门牌号",
                "compound": "小区名称",
                "building_number": "楼栋号",
                "building_key": "建筑编号",
            },
            "values": {"level": {"楼栋": "building", "小区": "compound", "门牌": "door"}},
            "building_source": "buildings",
        },
        {
            "name": "residents",
            "entity": "people",
            "format": "xlsx",
            "path": "residents/*.xlsx",
            "sheet": RESIDENT_SHEET,
            "mode": "snapshot",
            "key": "人员编号",
            "address": "现住址",
            "columns": {
                "household_key": "户编号",
                "gender": "性别",
                "id_number": "公民身份号码",
                "name": "姓名",
                "phone": "联系电话",
                "key_person_category": "人员类别",
            },
            "values": {"gender": {"男": "M", "女": "F"}},
        },
        {
            "name": "organisations",
            "entity": "organisations",
            "format": "csv",
            "path": ORGANISATION_FILE,
            "encoding": "utf-8",
            "crs": "gcj02",
            "mode": "snapshot",
            "key": "统一社会信用代码",
            "x": "经度",
            "y": "纬度",
            "address": "经营地址",
            "columns": {
                "name": "单位名称",
                "credit_code": "统一社会信用代码",
                "kind": "单位类型",
                "industry": "行业",
            },
        },
        {
            "name": "hotline",
            **incident_common,
            "path": INCIDENT_FILES["hotline"],
            "encoding": "gbk",
            "crs": "gcj02",
            "key": "工单编号",
            "x": "经度",
            "y": "纬度",
            "address": "事发地址",
            "time_format": "%Y/%m/%d %H:%M",
            "columns": {
                "channel": "渠道",
                "category": "事件大类",
                "subcategory": "事件小类",
                "demand_type": "诉求类型",
                "status": "办理状态",
                "reported_at": "来电时间",
                "accepted_at": "受理时间",
                "dispatched_at": "派单时间",
                "closed_at": "办结时间",
                "due_at": "办理时限",
            },
            "values": {
                "channel": {"12345热线": "hotline", "微信小程序": "wechat", "政府网站": "website"},
                "demand_type": DEMAND_VALUES,
                "status": STATUS_VALUES,
            },
        },
        {
            "name": "grid_app",
            **incident_common,
            "path": INCIDENT_FILES["gridapp"],
            "encoding": "utf-8",
            "crs": "EPSG:4326",
            "key": "事件编号",
            "x": "经度",
            "y": "纬度",
            "time_format": "iso",
            "columns": {
                "category": "事件大类",
                "subcategory": "事件小类",
                "status": "状态",
                "address": "事发地址",
                "reported_at": "上报时间",
                "dispatched_at": "派遣时间",
                "handled_at": "处置时间",
                "closed_at": "结案时间",
                "due_at": "处置时限",
            },
            "constants": {"channel": "grid_app"},
            "values": {"status": STATUS_VALUES},
        },
        {
            "name": "video_ai",
            **incident_common,
            "path": INCIDENT_FILES["video"],
            "encoding": "utf-8",
            "crs": "bd09",
            "key": "告警编号",
            "x": "经度",
            "y": "纬度",
            "time_format": "%Y-%m-%d %H:%M:%S",
            "columns": {
                "category": "告警大类",
                "subcategory": "告警类型",
                "status": "处置状态",
                "reported_at": "告警时间",
                "closed_at": "结案时间",
            },
            "constants": {"channel": "video_ai"},
            "values": {"status": STATUS_VALUES},
        },
        {
            "name": "devices",
            "entity": "devices",
            "format": "geojson",
            "path": DEVICE_FILE,
            "crs": "EPSG:4490",
            "mode": "snapshot",
            "key": "设备编号",
            "time_format": "%Y-%m-%d",
            "columns": {
                "kind": "设备类型",
                "name": "设备名称",
                "status": "在线状态",
                "owner_department": "所属部门",
                "installed_at": "安装日期",
            },
            "values": {
                "kind": {
                    "枪机": "camera",
                    "球机": "camera",
                    "人脸卡口": "camera",
                    "车辆卡口": "camera",
                    "烟感": "smoke_detector",
                    "水位监测": "water_level",
                    "井盖监测": "iot_sensor",
                    "环境监测": "air_quality",
                },
                "status": {"在线": "online", "离线": "offline"},
            },
        },
    ]


def pipeline_document(city_dir: Path, yaml_path: Path, name: str = "demo") -> dict[str, Any]:
    """The pipeline as data, with every path made relative to where the YAML will live."""
    base = yaml_path.resolve().parent
    sources = []
    for source in pipeline_sources():
        entry = dict(source)
        entry["path"] = Path(
            os.path.relpath((city_dir / source["path"]).resolve(), base)
        ).as_posix()
        sources.append(entry)
    return {
        "pipeline": name,
        "timezone": TIME_ZONE,
        "city": {"extent": [EXTENT_LON[0], EXTENT_LAT[0], EXTENT_LON[1], EXTENT_LAT[1]]},
        "sources": sources,
    }


def write_pipeline(city_dir: Path, yaml_path: Path, name: str = "demo") -> Path:
    """Write the YAML (UTF-8, Chinese kept readable, key order as declared)."""
    document = pipeline_document(city_dir, yaml_path, name)
    header = (
        "# Loads the demo city generated by `geoplatform demo generate`.\n"
        "# Paths are relative to this file; see geoplatform/etl/pipeline.py for the format.\n"
    )
    yaml_path.parent.mkdir(parents=True, exist_ok=True)
    yaml_path.write_text(
        header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100),
        encoding="utf-8",
    )
    return yaml_path
