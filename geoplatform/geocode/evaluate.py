"""Accuracy of the matcher against a demo city's ground truth (tests and `bench/geocode.py`).

The matcher never sees the truth: this module matches the residents' addresses first and only
then compares each answer with the truth row, by the rules of issue 4:

* a row resolvable to a building is right when an accepted building-level answer names the true
  building;
* a row resolvable only to a compound or a door is right when an accepted answer at that level
  names the expected standard address (the compound's gate door plate);
* a community-only row is right when an accepted community answer names the true community;
* a row that does not exist is right when nothing is accepted.

An accepted answer that is not right is a wrong match.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geoplatform.geocode.result import GeocodeResult

STANDARD_ADDRESSES_FILE = "addresses/标准地址.csv"
STANDARD_ADDRESSES_CRS = "EPSG:4545"
RESIDENTS_TRUTH_FILE = "truth/people.csv"
RESIDENT_ADDRESS_COLUMN = "现住址"


def city_preset(city: Path) -> str:
    """The preset a generated city was made with (its manifest says so)."""
    manifest = json.loads((city / "truth" / "manifest.json").read_text(encoding="utf-8"))
    return str(manifest.get("preset", "wuhai"))


def read_standard_addresses(city: Path) -> pd.DataFrame:
    """The demo city's standard-address table under Wuhai's headers, all text.

    A preset whose table names its admin areas (no codes) gets its codes resolved from the
    delivered boundaries by name, as the ETL does; nothing is taken from the truth."""
    from geoplatform.demo.delivery import DELIVERIES

    shape = DELIVERIES[city_preset(city)]
    path = city / shape.files["addresses"]
    table = pd.read_csv(path, dtype=str, encoding=shape.encodings["addresses"])
    back = {v: k for k, v in shape.headers.get("addresses", {}).items()}
    table = table.rename(columns=back)
    if "doors" in shape.files:  # door plates delivered on their own
        doors = pd.read_csv(
            city / shape.files["doors"], dtype=str, encoding=shape.encodings["doors"]
        )
        doors = doors.rename(
            columns={
                "门牌ID": "地址编码",
                "所属区县": "区县",
                "所属街道": "街道",
                "所属社区": "社区",
                "所属小区": "小区名称",
                "建筑物编码": "建筑编号",
                "横坐标": "X坐标",
                "纵坐标": "Y坐标",
            }
        )
        doors["地址类型"] = doors.pop("门牌类型").map({"小区大门": "小区", "独立建筑": "门牌"})
        doors["标准地址"] = (
            doors["区县"] + doors["街道"] + doors["社区"] + doors["街路巷"] + doors["门牌号"]
        ) + doors["小区名称"].fillna("")
        table = pd.concat([table, doors], ignore_index=True)
    if "社区代码" not in table.columns:
        import geopandas as gpd

        admin = gpd.read_file(city / shape.files["boundaries"], layer=shape.layers["admin"])
        admin = admin.rename(columns={v: k for k, v in shape.headers.get("admin", {}).items()})
        pairs = zip(admin["上级代码"], admin["名称"], strict=True)
        code = dict(zip(pairs, admin["区划代码"], strict=True))
        city_code = str(admin["上级代码"][admin["级别"].isin(["区", "县"])].iloc[0])
        district = [code.get((city_code, n), "") for n in table["区县"]]
        street = [code.get((d, n), "") for d, n in zip(district, table["街道"], strict=True)]
        community = [code.get((s, n), "") for s, n in zip(street, table["社区"], strict=True)]
        table["区县代码"], table["街道代码"], table["社区代码"] = district, street, community
        table["地址类型"] = table["地址类型"].replace({"楼幢": "楼栋"})
    return table


def standard_crs(city: Path) -> str:
    manifest = json.loads((city / "truth" / "manifest.json").read_text(encoding="utf-8"))
    return str(manifest["city"].get("metric_crs", STANDARD_ADDRESSES_CRS))


def _xlsx_column(path: Path, header: str) -> Iterator[str]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        index = list(next(rows)).index(header)
        for row in rows:
            value = row[index] if index < len(row) else None
            yield "" if value is None else str(value)
    finally:
        book.close()


def read_residents(city: Path) -> pd.DataFrame:
    """Every resident row's address with its truth (joined on file and 1-based row)."""
    truth = pd.read_csv(city / RESIDENTS_TRUTH_FILE, dtype=str, keep_default_na=False)
    truth["row"] = truth["row"].astype(int)
    from geoplatform.demo.delivery import DELIVERIES

    column = DELIVERIES[city_preset(city)].header_list("residents", [RESIDENT_ADDRESS_COLUMN])[0]
    frames = []
    for file in sorted(truth["file"].unique()):
        addresses = list(_xlsx_column(city / file, column))
        frames.append(
            pd.DataFrame({"file": file, "row": range(1, len(addresses) + 1), "address": addresses})
        )
    rows = pd.concat(frames, ignore_index=True)
    merged = rows.merge(truth, on=["file", "row"], how="inner", validate="one_to_one")
    if len(merged) != len(truth):
        raise ValueError(f"{len(truth) - len(merged)} truth rows have no resident row")
    return merged


def is_right(result: GeocodeResult, level: str, expected: str, building: str) -> bool:
    """Whether ``result`` is the right answer for a row resolvable to ``level``."""
    if level == "none":
        return not result.accepted
    if not result.accepted or result.level != level:
        return False
    if level == "building":
        return result.building_key == building
    if level == "community":
        return result.community_code == expected
    return result.address_key == expected


@dataclass
class Accuracy:
    """Counts behind the acceptance figures; rates are over the rows they name."""

    rows: int = 0
    right_by_level: dict[str, int] = field(default_factory=dict)
    rows_by_level: dict[str, int] = field(default_factory=dict)
    wrong_accepted: int = 0
    right_by_variant: dict[str, int] = field(default_factory=dict)
    rows_by_variant: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str, str, str, float]] = field(default_factory=list)

    def rate(self, level: str) -> float:
        """Share of rows resolvable to ``level`` answered right."""
        return self.right_by_level.get(level, 0) / max(1, self.rows_by_level.get(level, 0))

    @property
    def wrong_rate(self) -> float:
        """Accepted answers that are wrong, as a share of all rows."""
        return self.wrong_accepted / max(1, self.rows)

    @property
    def nonexistent_matched(self) -> float:
        """Share of non-existent addresses for which something was accepted."""
        return 1.0 - self.rate("none")

    def variant_rates(self) -> dict[str, tuple[float, int]]:
        """Per variant type (and "clean"): share right and row count."""
        return {
            name: (self.right_by_variant.get(name, 0) / count, count)
            for name, count in sorted(self.rows_by_variant.items())
        }

    def table(self) -> str:
        """A plain-text report: levels, wrong matches, accuracy per variant type."""
        lines = [f"rows {self.rows}"]
        for level, count in sorted(self.rows_by_level.items()):
            lines.append(f"  level {level:<10} {self.rate(level):8.4%}  of {count}")
        lines.append(f"  wrong accepted {self.wrong_rate:.4%} of all rows ({self.wrong_accepted})")
        lines.append(f"  non-existent matched {self.nonexistent_matched:.4%}")
        for name, (rate, count) in self.variant_rates().items():
            lines.append(f"  variant {name:<22} {rate:8.4%}  of {count}")
        return "\n".join(lines)


def evaluate(
    results: Sequence[GeocodeResult],
    truth: pd.DataFrame,
    *,
    keep_failures: int = 50,
) -> Accuracy:
    """Compare answers with the truth rows they were made for (same order)."""
    if len(results) != len(truth):
        raise ValueError("one result per truth row is needed")
    accuracy = Accuracy(rows=len(truth))
    columns = zip(
        truth["resolvable_level"],
        truth["expected_address_id"],
        truth["building_id"],
        truth["variants"],
        strict=True,
    )
    for result, (level, expected, building, variants) in zip(results, columns, strict=True):
        right = is_right(result, level, expected, building)
        accuracy.rows_by_level[level] = accuracy.rows_by_level.get(level, 0) + 1
        accuracy.right_by_level[level] = accuracy.right_by_level.get(level, 0) + right
        if result.accepted and not right:
            accuracy.wrong_accepted += 1
        for name in variants.split(";") if variants else ["clean"]:
            accuracy.rows_by_variant[name] = accuracy.rows_by_variant.get(name, 0) + 1
            accuracy.right_by_variant[name] = accuracy.right_by_variant.get(name, 0) + right
        if not right and len(accuracy.failures) < keep_failures:
            accuracy.failures.append((level, variants, result.query, result.level, result.score))
    return accuracy


def match_city(
    city: Path, match_many: Callable[[Sequence[str]], list[GeocodeResult]]
) -> tuple[pd.DataFrame, list[GeocodeResult]]:
    """Residents with truth, and the answers ``match_many`` gives for their addresses."""
    residents = read_residents(city)
    return residents, match_many(residents["address"].tolist())
