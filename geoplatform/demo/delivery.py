"""How each preset's departments deliver: file names, column headers, encodings, status words and
which parts of the delivery exist at all (a city polygon, admin codes in the address table).

The generator builds every frame under Wuhai's headers and renames on writing, so each writer
stays one piece of code for every city.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from geoplatform.demo.presets import active


@dataclass(frozen=True)
class Delivery:
    """One city's delivery shape. ``headers[kind]`` maps Wuhai's header to this city's."""

    files: dict[str, str]
    encodings: dict[str, str]
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    #: lifecycle status (Wuhai's words) → this city's words
    statuses: dict[str, str] = field(default_factory=dict)
    city_polygon: bool = True
    address_codes: bool = True
    building_label: str = "号楼"
    layers: dict[str, str] = field(default_factory=dict)
    #: the POI list comes from a map vendor, in GCJ-02 degrees
    landmarks_gcj02: bool = False

    def rename(self, kind: str, frame: pd.DataFrame) -> pd.DataFrame:
        mapping = self.headers.get(kind)
        return frame.rename(columns=mapping) if mapping else frame

    def header_list(self, kind: str, headers: tuple[str, ...] | list[str]) -> list[str]:
        mapping = self.headers.get(kind, {})
        return [mapping.get(h, h) for h in headers]

    def status(self, values: pd.Series) -> npt.NDArray[np.object_]:
        """Lifecycle statuses in this city's words."""
        return values.map(lambda v: self.statuses.get(v, v)).to_numpy(dtype=object)


WUHAI = Delivery(
    files={
        "boundaries": "boundaries/行政区划与网格.gpkg",
        "buildings": "buildings/建筑物.shp",
        "addresses": "addresses/标准地址.csv",
        "roads": "boundaries/行政区划与网格.gpkg",
        "aliases": "addresses/小区别名.csv",
        "landmarks": "poi/兴趣点.csv",
        "organisations": "organisations/法人单位名录.csv",
        "hotline": "incidents/12345热线工单.csv",
        "gridapp": "incidents/网格事件.csv",
        "video": "incidents/视频智能告警.csv",
        "residents": "residents/实有人口_{district}_{street}.xlsx",
    },
    encodings={
        "addresses": "utf-8-sig",
        "aliases": "utf-8-sig",
        "landmarks": "utf-8",
        "organisations": "utf-8",
        "hotline": "gbk",
        "gridapp": "utf-8",
        "video": "utf-8",
    },
    layers={"admin": "行政区划", "grids": "网格", "roads": "道路中心线", "residents": "实有人口"},
)

JIAXING = Delivery(
    files={
        "boundaries": "boundaries/jx_xzq_wg.gpkg",
        "buildings": "buildings/JZW_建筑物面.shp",
        "addresses": "addresses/嘉兴市标准地址库.csv",
        "doors": "addresses/公安门牌.csv",
        "roads": "roads/道路中心线.shp",
        "aliases": "addresses/小区俗称对照表.xlsx",
        "landmarks": "poi/兴趣点POI.csv",
        "organisations": "organisations/市场主体名录.csv",
        "hotline": "incidents/12345政务服务热线工单.csv",
        "gridapp": "incidents/基层治理四平台事件.csv",
        "video": "incidents/AI视频识别告警.csv",
        "residents": "residents/人口信息_{district}{street}.xlsx",
    },
    encodings={
        "addresses": "gbk",
        "doors": "gbk",
        "aliases": "xlsx",
        "landmarks": "gbk",
        "organisations": "utf-8-sig",
        "hotline": "gbk",
        "gridapp": "utf-8",
        "video": "utf-8",
    },
    headers={
        "admin": {
            "区划代码": "XZQDM",
            "名称": "XZQMC",
            "简称": "JC",
            "级别": "JB",
            "上级代码": "SJXZQDM",
            "版本年份": "BBND",
        },
        "grids": {
            "网格编码": "WGBM",
            "网格名称": "WGMC",
            "网格类型": "WGLX",
            "专属类型": "ZSLX",
            "所属社区代码": "SQDM",
            "版本年份": "BBND",
        },
        "roads": {
            "道路名称": "DLMC",
            "曾用名": "CYM",
            "道路类型": "DLDJ",
            "起始门牌": "QSMP",
            "终止门牌": "ZZMP",
            "区县代码": "SSQX",
        },
        "buildings": {
            "建筑编号": "JZWBM",
            "建筑名称": "JZWMC",
            "小区名称": "XQMC",
            "楼号": "LZH",
            "用途": "YT",
            "层数": "DSCS",
            "地址编码": "DZBM",
            "标准地址": "BZDZ",
        },
        "addresses": {
            "地址编码": "地址ID",
            "标准地址": "完整地址",
            "地址类型": "地址级别",
            "区县": "所属区县",
            "街道": "所属街道",
            "社区": "所属社区",
            "街路巷": "道路名称",
            "门牌号": "门牌号码",
            "小区名称": "小区名称",
            "楼栋号": "楼幢号",
            "地物名称": "建筑物名称",
            "建筑编号": "建筑物编码",
            "X坐标": "横坐标",
            "Y坐标": "纵坐标",
        },
        "aliases": {"别名": "俗称", "小区名称": "标准名称", "社区": "所属社区", "街道": "所属街道"},
        "landmarks": {
            "名称": "名称",
            "别名": "俗称",
            "类别": "分类",
            "地址": "地址",
            "X坐标": "经度",
            "Y坐标": "纬度",
        },
        "residents": {
            "人员编号": "人员ID",
            "出生日期": "出生年月",
            "公民身份号码": "身份证号",
            "联系电话": "手机号码",
            "户编号": "户号",
            "现住址": "居住地址",
            "人员类别": "人员标签",
            "登记日期": "采集日期",
        },
        "organisations": {
            "统一社会信用代码": "统一代码",
            "单位名称": "主体名称",
            "单位类型": "主体类型",
            "法定代表人": "负责人",
            "联系电话": "电话",
            "经营地址": "住所",
            "行业": "行业门类",
            "从业人数": "从业人员",
        },
        "hotline": {
            "工单编号": "工单号",
            "来电时间": "登记时间",
            "渠道": "来源渠道",
            "诉求类型": "诉求性质",
            "事件大类": "一级分类",
            "事件小类": "二级分类",
            "诉求内容": "问题描述",
            "事发地址": "发生地点",
            "受理时间": "签收时间",
            "派单时间": "交办时间",
            "办结时间": "办结时间",
            "办理时限": "办理期限",
            "办理状态": "工单状态",
            "满意度": "回访满意度",
        },
        "gridapp": {
            "事件编号": "事件ID",
            "上报时间": "采集时间",
            "事件大类": "事件类别",
            "事件小类": "事件子类",
            "事件描述": "事件简述",
            "事发地址": "发生地址",
            "状态": "流转状态",
            "结案时间": "办结时间",
        },
        "video": {
            "告警编号": "告警ID",
            "告警大类": "算法大类",
            "告警类型": "算法名称",
            "置信度": "识别置信度",
            "处置状态": "流转状态",
        },
    },
    statuses={
        "待受理": "待签收",
        "已受理": "已签收",
        "已派遣": "已交办",
        "已处置": "已办理",
        "已核查": "已核实",
        "已结案": "已办结",
        "不予受理": "已退回",
    },
    city_polygon=False,
    address_codes=False,
    building_label="幢",
    layers={"admin": "XZQ", "grids": "WG", "residents": "人口信息", "aliases": "俗称"},
    landmarks_gcj02=True,
)

DELIVERIES = {"wuhai": WUHAI, "jiaxing": JIAXING}


def delivery() -> Delivery:
    """The active preset's delivery shape."""
    return DELIVERIES[active().name]
