"""Organisations (法人/单位) as the market-regulation register delivers them: unified social
credit codes (some beginning with a letter, ~1% with a wrong check character), half with GCJ-02
coordinates, half address-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from geoplatform.demo import vocab
from geoplatform.demo.addresses import AddressBook
from geoplatform.demo.admin import to_wgs84
from geoplatform.demo.config import CREDIT_CODE_INVALID_SHARE, ORGANISATION_WITH_COORDINATES_SHARE
from geoplatform.demo.delivery import delivery
from geoplatform.demo.numerals import chinese_number
from geoplatform.demo.presets import active
from geoplatform.demo.stock import BuildingStock
from geoplatform.demo.truth import TRUTH_ORGANISATION_COLUMNS, RejectReason
from geoplatform.demo.variants import FULLWIDTH, SEPARATORS, TRADITIONAL
from geoplatform.demo.writers import CsvStream
from geoplatform.identifiers import CREDIT_CODE_ALPHABET, make_credit_codes
from geoplatform.spatial.chinese_offsets import wgs84_to_gcj02

ORGANISATION_FILE = "organisations/法人单位名录.csv"
ORGANISATION_HEADERS = (
    "统一社会信用代码",
    "单位名称",
    "单位类型",
    "法定代表人",
    "联系电话",
    "经营地址",
    "行业",
    "成立日期",
    "从业人数",
    "经度",
    "纬度",
)

#: (credit-code prefix, type label, share, where it sits)
ORGANISATION_TYPES: tuple[tuple[str, str, float, str], ...] = (
    ("92", "个体工商户", 0.50, "shop"),
    ("91", "企业", 0.37, "enterprise"),
    ("93", "农民专业合作社", 0.01, "village"),
    ("12", "事业单位", 0.03, "institution"),
    ("11", "机关", 0.015, "institution"),
    ("51", "社会团体", 0.015, "office"),
    ("52", "民办非企业单位", 0.02, "office"),
    ("N2", "村级集体经济组织", 0.012, "village"),
    ("Y1", "其他组织", 0.01, "office"),
    ("A1", "军队单位", 0.003, "institution"),
)
SHOP_REMARKS = ("(门面房)", "（一楼商铺）", "(临街)", "【总店】", "（对面是银行）")
BUREAUS = (
    "市场监督管理局",
    "自然资源局",
    "住房和城乡建设局",
    "城市管理综合执法局",
    "民政局",
    "应急管理局",
    "卫生健康委员会",
    "教育局",
)


@dataclass
class OrganisationReport:
    rows: int = 0
    with_coordinates: int = 0
    invalid_credit_codes: int = 0
    letter_prefixed: int = 0
    files: list[Path] = field(default_factory=list)


def _pick_buildings(
    rng: np.random.Generator, kinds: npt.NDArray[np.object_], wanted: tuple[str, ...], count: int
) -> npt.NDArray[np.int64]:
    pool = np.flatnonzero(np.isin(kinds, wanted))
    if pool.size == 0:
        pool = np.flatnonzero(kinds == "commercial")
    return pool[rng.integers(0, pool.size, count)].astype(np.int64)


def write_organisations(
    out: Path,
    book: AddressBook,
    stock: BuildingStock,
    count: int,
    rng: np.random.Generator,
    truth: CsvStream,
    old_road_names: list[str] | None = None,
) -> OrganisationReport:
    """The register (UTF-8 CSV) and its truth rows."""
    shares = np.array([share for _, _, share, _ in ORGANISATION_TYPES])
    kind_index = rng.choice(len(ORGANISATION_TYPES), count, p=shares / shares.sum())
    prefix = np.array([t[0] for t in ORGANISATION_TYPES], dtype=object)[kind_index]
    label = np.array([t[1] for t in ORGANISATION_TYPES], dtype=object)[kind_index]
    place = np.array([t[3] for t in ORGANISATION_TYPES], dtype=object)[kind_index]
    building = np.zeros(count, dtype=np.int64)
    sites = {
        "shop": ("commercial",),
        "office": ("commercial",),
        "enterprise": ("commercial", "commercial", "commercial", "industrial"),
        "institution": ("special", "commercial"),
        "village": ("house",),
    }
    kinds = book.kind
    for site, wanted in sites.items():
        rows = np.flatnonzero(place == site)
        if site == "enterprise":
            industrial = rng.random(rows.size) < 0.25
            building[rows[industrial]] = _pick_buildings(
                rng, kinds, ("industrial",), int(industrial.sum())
            )
            building[rows[~industrial]] = _pick_buildings(
                rng, kinds, ("commercial",), int((~industrial).sum())
            )
        else:
            building[rows] = _pick_buildings(rng, kinds, wanted, rows.size)
    market = np.flatnonzero(np.array(stock.buildings.use, dtype=object) == "市场")
    shops = np.flatnonzero(place == "shop")
    if market.size and shops.size:
        in_market = shops[rng.random(shops.size) < 0.08]
        building[in_market] = market[rng.integers(0, market.size, in_market.size)]

    district6 = np.array([str(c)[:6] for c in book.street_code], dtype=object)[building]
    serials = rng.choice(100_000_000, count, replace=False)
    codes = np.array(
        make_credit_codes(prefix.tolist(), [int(d) for d in district6], serials.tolist()),
        dtype=object,
    )
    reject = np.full(count, "", dtype=object)
    invalid = rng.choice(count, round(CREDIT_CODE_INVALID_SHARE * count), replace=False)
    for row in invalid:
        wrong = CREDIT_CODE_ALPHABET.replace(codes[row][17], "")
        codes[row] = codes[row][:17] + wrong[int(rng.integers(0, len(wrong)))]
    reject[invalid] = RejectReason.INVALID_CREDIT_CODE.value

    names = _organisation_names(rng, prefix, book, building, stock)
    doors = stock.doors
    door = book.door[building]
    door_x = np.array(doors.x)[door]
    door_y = np.array(doors.y)[door]
    lon, lat = to_wgs84(door_x, door_y)
    with_coordinates = rng.random(count) < ORGANISATION_WITH_COORDINATES_SHARE
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    floor = rng.integers(1, 4, count)
    addresses, variants = [], []
    drop_city = rng.random(count) < 0.5
    drop_district = rng.random(count) < 0.1
    fullwidth = rng.random(count) < 0.02
    mess = rng.random((6, count)) < np.array([[0.08], [0.08], [0.04], [0.05], [0.02], [0.05]])
    old_road, punctuation, numerals, remark, traditional, short_district = mess
    old_names = old_road_names or [""] * (int(book.road.max()) + 1 if len(book) else 1)
    pick = rng.integers(0, 1 << 30, count)
    for row in range(count):
        b = int(building[row])
        parts = []
        labels = []
        if drop_city[row]:
            labels.append("missing_city")
        else:
            parts.append(active().city_name)
        if drop_district[row]:
            labels.append("missing_district")
        elif short_district[row]:
            parts.append(str(book.district_short[b]))
            labels.append("short_admin")
        else:
            parts.append(str(book.district_name[b]))
        road = str(book.road_name[b])
        if road.endswith("组"):  # a 村民小组 is written after its village (某村3组15号)
            parts.append(str(book.community_name[b]))
        if old_road[row] and old_names[int(book.road[b])]:
            road = old_names[int(book.road[b])]
            labels.append("old_road_name")
        number = int(book.door_number[b])
        if numerals[row]:
            parts.append(f"{road}{chinese_number(number)}号")
            labels.append("chinese_numerals")
        else:
            parts.append(f"{road}{number}号")
        if kinds[b] == "commercial" and floor[row] > 1:
            parts.append(("{}楼", "{}层", "{}F")[int(pick[row]) % 3].format(floor[row]))
        if remark[row]:
            parts.append(SHOP_REMARKS[int(pick[row]) % len(SHOP_REMARKS)])
            labels.append("bracket_remark")
        if punctuation[row]:
            text = SEPARATORS[int(pick[row]) % len(SEPARATORS)].join(parts)
            labels.append("punctuation")
        else:
            text = "".join(parts)
        if fullwidth[row]:
            text = text.translate(FULLWIDTH)
            labels.append("fullwidth")
        if traditional[row]:
            text = text.translate(TRADITIONAL)
            labels.append("traditional")
        addresses.append(text)
        variants.append(";".join(labels))
    level = np.where(np.isin(kinds[building], ["special"]), "door", "building")
    reps = (
        rng.choice(np.array([name for name, _ in vocab.SURNAMES], dtype=object), count)
        + np.array(list(vocab.MALE_GIVEN + vocab.FEMALE_GIVEN), dtype=object)[
            rng.integers(0, len(vocab.MALE_GIVEN + vocab.FEMALE_GIVEN), count)
        ]
    )
    founded = (
        np.datetime64("1995-01-01") + rng.integers(0, 11_000, count).astype("timedelta64[D]")
    ).astype(str)
    trades = np.array(vocab.ENTERPRISE_TRADES, dtype=object)[
        rng.integers(0, len(vocab.ENTERPRISE_TRADES), count)
    ]
    frame = pd.DataFrame(
        {
            "统一社会信用代码": codes,
            "单位名称": names,
            "单位类型": label,
            "法定代表人": reps,
            "联系电话": np.char.add(
                active().phone_area + "-", rng.integers(2_000_000, 8_000_000, count).astype(str)
            ),
            "经营地址": addresses,
            "行业": trades,
            "成立日期": founded,
            "从业人数": np.maximum(1, rng.lognormal(1.5, 1.1, count).astype(np.int64)),
            "经度": np.where(with_coordinates, np.round(gcj_lon, 6).astype(str), ""),
            "纬度": np.where(with_coordinates, np.round(gcj_lat, 6).astype(str), ""),
        }
    )
    shape = delivery()
    path = out / shape.files["organisations"]
    path.parent.mkdir(parents=True, exist_ok=True)
    headers = shape.header_list("organisations", ORGANISATION_HEADERS)
    with CsvStream(path, headers, encoding=shape.encodings["organisations"]) as stream:
        stream.write(shape.rename("organisations", frame))
    truth.write(
        pd.DataFrame(
            {
                "file": shape.files["organisations"],
                "row": np.arange(1, count + 1),
                "credit_code": codes,
                "reject_reason": reject,
                "has_coordinates": with_coordinates,
                "resolvable_level": level,
                "variants": variants,
                "expected_address_id": book.door_address_id[building],
                "building_id": book.building_id[building],
                "community_code": book.community_code[building],
                "grid_code": book.grid_code[building],
                "lon": lon,
                "lat": lat,
            },
            columns=list(TRUTH_ORGANISATION_COLUMNS),
        )
    )
    return OrganisationReport(
        rows=count,
        with_coordinates=int(with_coordinates.sum()),
        invalid_credit_codes=int(invalid.size),
        letter_prefixed=int(np.char.isalpha(np.array([c[0] for c in codes])).sum()),
        files=[path],
    )


def _organisation_names(
    rng: np.random.Generator,
    prefix: npt.NDArray[np.object_],
    book: AddressBook,
    building: npt.NDArray[np.int64],
    stock: BuildingStock,
) -> list[str]:
    brands = vocab.ORGANISATION_BRANDS
    city, province = active().org_prefixes
    names = []
    for row, code in enumerate(prefix):
        b = int(building[row])
        brand = brands[int(rng.integers(len(brands)))]
        district = str(book.district_name[b])
        if code == "92":
            names.append(
                f"{district}{brand}{vocab.SHOP_TYPES[int(rng.integers(len(vocab.SHOP_TYPES)))]}"
            )
        elif code == "91":
            trade = vocab.ENTERPRISE_TRADES[int(rng.integers(len(vocab.ENTERPRISE_TRADES)))]
            names.append(
                (city if rng.random() < 0.7 else province)
                + f"{brand}{trade}有限"
                + ("责任" if rng.random() < 0.3 else "")
                + "公司"
            )
        elif code == "93":
            names.append(f"{city}{district}{brand}种养殖专业合作社")
        elif code == "N2":
            names.append(f"{book.community_name[b]}股份经济合作社")
        elif code in ("12", "A1") and stock.buildings.name[b]:
            names.append(stock.buildings.name[b].split("号楼")[0].rstrip("0123456789"))
        elif code == "11":
            names.append(f"{city}{district}{BUREAUS[int(rng.integers(len(BUREAUS)))]}")
        elif code == "51":
            names.append(
                f"{city}{vocab.ENTERPRISE_TRADES[int(rng.integers(len(vocab.ENTERPRISE_TRADES)))]}协会"
            )
        elif code == "52":
            names.append(f"{city}{brand}{'幼儿园' if rng.random() < 0.5 else '培训学校'}")
        else:
            names.append(f"{city}{brand}服务中心")
    return names
