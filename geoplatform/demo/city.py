"""Orchestration: build the city, write every department's files, the truth and the pipeline."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplatform.demo.addresses import AddressBook, build_address_book
from geoplatform.demo.admin import AdminLayout, build_admin, build_frame
from geoplatform.demo.buildings import build_stock, ensure_capacity
from geoplatform.demo.config import (
    EDITION_YEAR,
    LABEL_NAMES,
    RESOLVABLE_LEVELS,
    AddressVariantShares,
    targets_for_scale,
)
from geoplatform.demo.delivery import delivery
from geoplatform.demo.devices import make_devices, write_devices
from geoplatform.demo.gazetteer_files import (
    alias_frame,
    developer_of,
    landmark_frame,
    landmarks,
    road_frame,
)
from geoplatform.demo.hotspots import plan_hotspots
from geoplatform.demo.incidents import IncidentGenerator, location_model
from geoplatform.demo.organisations import write_organisations
from geoplatform.demo.people import household_sizes, place_households, write_residents
from geoplatform.demo.pipeline import write_pipeline
from geoplatform.demo.presets import DEFAULT_PRESET, active, get_preset, use_preset
from geoplatform.demo.roads import RoadNetwork, build_roads
from geoplatform.demo.stock import BuildingStock, GridLocator
from geoplatform.demo.truth import (
    REJECT_REASONS,
    TRUTH_BUILDING_COLUMNS,
    TRUTH_DEVICE_COLUMNS,
    TRUTH_INCIDENT_COLUMNS,
    TRUTH_ORGANISATION_COLUMNS,
    TRUTH_PEOPLE_COLUMNS,
    write_json,
)
from geoplatform.demo.vague import build_pool
from geoplatform.demo.variants import build_context
from geoplatform.demo.writers import (
    CsvStream,
    XlsxStreamWriter,
    write_gbk_shapefile,
    write_geopackage,
)

Progress = Callable[[str, int, int], None]
STAGES = (
    "layout",
    "boundaries",
    "buildings",
    "residents",
    "organisations",
    "devices",
    "incidents",
    "truth",
)


@dataclass
class DemoReport:
    """What a generation produced: counts, realised variant shares and the files written."""

    out: Path
    seed: int
    scale: float
    preset: str
    planted_hotspots: bool
    targets: dict[str, Any]
    counts: dict[str, int]
    variant_shares: dict[str, float]
    variant_settings: dict[str, float]
    resolvable_levels: dict[str, int]
    hotspots: list[dict[str, Any]]
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["out"] = str(self.out)
        return data


def _zoned(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The metric CRS → the same projection with the zone number in the false easting
    (EPSG:4545 → 4524 for Wuhai, 4549 → 4528 for Jiaxing)."""
    preset = active()
    shifted = shapely.transform(
        frame.geometry.values, lambda xy: xy + np.array([preset.zone_shift, 0.0])
    )
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=shifted, crs=preset.zoned_crs)


def _write_boundaries(
    out: Path, layout: AdminLayout, roads: RoadNetwork, stock: BuildingStock
) -> list[Path]:
    shape = delivery()
    metric = active().metric_crs
    areas = layout.areas
    if not shape.city_polygon:  # the delivery has districts and below; the city is derived
        areas = areas[areas["level"] != "city"]
    admin = gpd.GeoDataFrame(
        {
            "区划代码": areas["code"],
            "名称": areas["name"],
            "简称": areas["short_name"],
            "级别": areas["kind"],
            "上级代码": areas["parent_code"].replace("", None),
            "版本年份": EDITION_YEAR,
        },
        geometry=areas.geometry.values,
        crs=metric,
    )
    grids = layout.grids_frame()
    grid_layer = gpd.GeoDataFrame(
        {
            "网格编码": grids["code"],
            "网格名称": grids["name"],
            "网格类型": grids["grid_type"],
            "专属类型": grids["special_kind"].replace("", None),
            "所属社区代码": grids["community_code"],
            "版本年份": EDITION_YEAR,
        },
        geometry=grids.geometry.values,
        crs=metric,
    ).sort_values("网格编码", ignore_index=True)
    road_layer = shape.rename("roads", road_frame(roads, stock))
    path = out / shape.files["boundaries"]
    path.parent.mkdir(parents=True, exist_ok=True)
    layers = {
        shape.layers["admin"]: _zoned(shape.rename("admin", admin)),
        shape.layers["grids"]: _zoned(shape.rename("grids", grid_layer)),
    }
    if "roads" in shape.layers:  # roads in the boundary package (zoned like the rest)
        layers[shape.layers["roads"]] = _zoned(road_layer)
        write_geopackage(path, layers)
        return [path]
    write_geopackage(path, layers)
    road_path = out / shape.files["roads"]
    road_path.parent.mkdir(parents=True, exist_ok=True)
    return [path, *write_gbk_shapefile(road_path, road_layer)]


def _write_buildings(out: Path, stock: BuildingStock, book: AddressBook) -> list[Path]:
    buildings = stock.buildings
    standard = book.table.set_index("地址编码")["标准地址"]
    frame = gpd.GeoDataFrame(
        {
            "建筑编号": book.building_id,
            "建筑名称": buildings.name,
            "小区名称": book.compound_name,
            "楼号": [str(n) if n else "" for n in buildings.number],
            "用途": buildings.use,
            "层数": np.array(buildings.floors, dtype=np.int64),
            "地址编码": book.address_id,
            "标准地址": standard.reindex(book.address_id).to_numpy(),
        },
        geometry=buildings.footprint,
        crs=active().metric_crs,
    )
    path = out / delivery().files["buildings"]
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_gbk_shapefile(path, delivery().rename("buildings", frame))


def _write_addresses(out: Path, book: AddressBook) -> list[Path]:
    """The standard-address table; where the door plates come from the public-security bureau
    on their own (Jiaxing), the plates go to their own file and the table keeps the buildings."""
    shape = delivery()
    path = out / shape.files["addresses"]
    path.parent.mkdir(parents=True, exist_ok=True)
    table = book.table.copy()
    table["X坐标"] = table["X坐标"].map(lambda v: f"{v:.3f}")
    table["Y坐标"] = table["Y坐标"].map(lambda v: f"{v:.3f}")
    written = [path]
    if not shape.address_codes:  # names only; the aliases come as their own list
        table = table.drop(columns=["区县代码", "街道代码", "社区代码", "小区别名"])
        table["地址类型"] = table["地址类型"].replace({"楼栋": "楼幢"})
    if "doors" in shape.files:
        plate = table["地址类型"].isin(["门牌", "小区"])
        doors = pd.DataFrame(
            {
                "门牌ID": table.loc[plate, "地址编码"],
                "所属区县": table.loc[plate, "区县"],
                "所属街道": table.loc[plate, "街道"],
                "所属社区": table.loc[plate, "社区"],
                "街路巷": table.loc[plate, "街路巷"],
                "门牌号": table.loc[plate, "门牌号"],
                "门牌类型": table.loc[plate, "地址类型"].map(
                    {"小区": "小区大门", "门牌": "独立建筑"}
                ),
                "所属小区": table.loc[plate, "小区名称"],
                "建筑物编码": table.loc[plate, "建筑编号"],
                "横坐标": table.loc[plate, "X坐标"],
                "纵坐标": table.loc[plate, "Y坐标"],
            }
        )
        door_path = out / shape.files["doors"]
        with CsvStream(door_path, list(doors.columns), encoding=shape.encodings["doors"]) as stream:
            stream.write(doors)
        written.append(door_path)
        table = table[~plate]
    table = shape.rename("addresses", table)
    encoding = shape.encodings["addresses"]
    with CsvStream(path, list(table.columns), encoding=encoding) as stream:
        stream.write(table)
    return written


def _write_place_names(
    out: Path,
    layout: AdminLayout,
    stock: BuildingStock,
    book: AddressBook,
    developers: list[str],
) -> list[Path]:
    """The published alias list and the POI list."""
    shape = delivery()
    aliases = alias_frame(layout, stock, book, developers)
    if not shape.address_codes:
        aliases = aliases.drop(columns=["社区代码"])
    else:
        aliases = aliases.drop(columns=["社区", "街道"])
    aliases = shape.rename("aliases", aliases)
    alias_path = out / shape.files["aliases"]
    alias_path.parent.mkdir(parents=True, exist_ok=True)
    if shape.encodings["aliases"] == "xlsx":
        with XlsxStreamWriter(alias_path, shape.layers["aliases"], list(aliases.columns)) as sheet:
            sheet.write_rows(aliases.astype(str).itertuples(index=False, name=None))
    else:
        with CsvStream(
            alias_path, list(aliases.columns), encoding=shape.encodings["aliases"]
        ) as stream:
            stream.write(aliases)
    poi = shape.rename("landmarks", landmark_frame(landmarks(stock, book), shape.landmarks_gcj02))
    poi_path = out / shape.files["landmarks"]
    poi_path.parent.mkdir(parents=True, exist_ok=True)
    with CsvStream(poi_path, list(poi.columns), encoding=shape.encodings["landmarks"]) as stream:
        stream.write(poi)
    return [alias_path, poi_path]


def generate_city(
    out: Path,
    *,
    scale: float = 0.02,
    seed: int = 1,
    preset: str = DEFAULT_PRESET,
    shares: AddressVariantShares | None = None,
    pipeline_path: Path | None = None,
    progress: Progress | None = None,
    planted_hotspots: bool = True,
) -> DemoReport:
    """Generate a seeded synthetic city (``preset``: wuhai, jiaxing) into ``out``: source files
    as departments deliver them, ``truth/``, and ``pipeline.yaml`` (the committed
    etl/pipelines/demo-PRESET.yaml with ``root: .``; also written to ``pipeline_path`` if given,
    rooted at ``out``). Same preset, seed and scale → byte-identical files."""
    with use_preset(get_preset(preset)):
        return _generate(Path(out), scale, seed, shares, pipeline_path, progress, planted_hotspots)


def _generate(
    out: Path,
    scale: float,
    seed: int,
    shares: AddressVariantShares | None,
    pipeline_path: Path | None,
    progress: Progress | None,
    planted_hotspots: bool,
) -> DemoReport:
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shares = shares or AddressVariantShares()
    targets = targets_for_scale(scale)
    # spawn(n) children do not depend on n: new streams go at the end, old cities stay as they were
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(10)]
    (
        layout_rng,
        building_rng,
        people_rng,
        org_rng,
        device_rng,
        incident_rng,
        hotspot_rng,
        household_rng,
        place_rng,
        vague_rng,
    ) = streams

    def step(name: str, done: int, total: int) -> None:
        if progress is not None:
            progress(name, done, total)

    step("layout", 0, 1)
    frame = build_frame(layout_rng)
    layout = build_admin(frame, layout_rng)
    roads = build_roads(frame, layout, layout_rng)
    stock = build_stock(frame, layout, roads, targets, building_rng)
    sizes = household_sizes(targets.residents, household_rng)
    ensure_capacity(stock.buildings, sizes.shape[0])
    buildings = stock.buildings
    households = place_households(
        buildings.residential_capacity(),
        np.array(buildings.floors, dtype=np.int64),
        np.array(buildings.rooms_per_floor, dtype=np.int64),
        np.array(buildings.kind) == "house",
        sizes,
        household_rng,
    )
    book = build_address_book(layout, roads, stock)
    locator = GridLocator(layout.grid_geometry)
    step("layout", 1, 1)

    files: list[Path] = []
    step("boundaries", 0, 1)
    files.extend(_write_boundaries(out, layout, roads, stock))
    files.extend(_write_buildings(out, stock, book))
    files.extend(_write_addresses(out, book))
    developers = developer_of(list(stock.compounds.name), place_rng)
    files.extend(_write_place_names(out, layout, stock, book, developers))
    step("boundaries", 1, 1)

    truth_dir = out / "truth"
    truth_dir.mkdir(exist_ok=True)
    ctx = build_context(layout, roads, stock, book, developers)
    done = 0

    def resident_progress(rows: int) -> None:
        nonlocal done
        done += rows
        step("residents", done, targets.residents)

    with CsvStream(truth_dir / "people.csv", TRUTH_PEOPLE_COLUMNS) as truth:
        people = write_residents(out, ctx, households, shares, people_rng, truth, resident_progress)
    files.extend(people.files)

    step("organisations", 0, targets.organisations)
    with CsvStream(truth_dir / "organisations.csv", TRUTH_ORGANISATION_COLUMNS) as truth:
        organisations = write_organisations(
            out, book, stock, targets.organisations, org_rng, truth, roads.old_names
        )
    files.extend(organisations.files)
    step("organisations", targets.organisations, targets.organisations)

    devices = make_devices(book, roads, locator, targets.devices, device_rng)
    with CsvStream(truth_dir / "devices.csv", TRUTH_DEVICE_COLUMNS) as truth:
        files.append(write_devices(out, devices, layout.grid_codes, device_rng, truth))
    step("devices", 1, 1)

    hotspots = plan_hotspots(
        frame, layout, roads, stock, targets.incidents, hotspot_rng, planted_hotspots
    )
    households_per_building = np.bincount(households.building, minlength=len(book))
    model = location_model(
        book, np.array(stock.doors.x), np.array(stock.doors.y), roads.lines, households_per_building
    )
    vague = build_pool(roads, book, landmarks(stock, book))
    generator = IncidentGenerator(
        out,
        targets.incidents,
        model,
        locator,
        layout.grid_codes,
        devices,
        hotspots,
        incident_rng,
        vague,
        vague_rng,
    )
    incident_done = 0

    def incident_progress(rows: int) -> None:
        nonlocal incident_done
        incident_done += rows
        step("incidents", incident_done, targets.incidents)

    with CsvStream(truth_dir / "incidents.csv", TRUTH_INCIDENT_COLUMNS) as truth:
        incidents = generator.run(truth, incident_progress)
    files.extend(incidents.files)

    step("truth", 0, 1)
    hotspot_truth = [
        plan.to_truth(locator, layout.grid_codes, incidents.hotspot_rows.get(plan.name, 0))
        for plan in hotspots.plans
    ]
    write_json(
        truth_dir / "hotspots.json", {"planted": planted_hotspots, "hotspots": hotspot_truth}
    )
    with CsvStream(truth_dir / "buildings.csv", TRUTH_BUILDING_COLUMNS) as truth:
        truth.write(
            pd.DataFrame(
                {
                    "building_id": book.building_id,
                    "kind": book.kind,
                    "use": buildings.use,
                    "compound_name": book.compound_name,
                    "address_id": book.address_id,
                    "community_code": book.community_code,
                    "grid_code": book.grid_code,
                    "lon": book.lon,
                    "lat": book.lat,
                }
            )
        )
    grids = layout.grids_frame()
    counts = {
        "districts": int((layout.areas["level"] == "district").sum()),
        "streets": int((layout.areas["level"] == "street").sum()),
        "communities": int((layout.areas["level"] == "community").sum()),
        "grids": len(grids),
        "special_grids": int((grids["grid_type"] == "专属网格").sum()),
        "roads": len(roads),
        "compounds": len(stock.compounds),
        "buildings": len(buildings),
        "standard_addresses": len(book.table),
        "households": len(households),
        "residents": people.rows,
        "key_persons": people.key_persons,
        "invalid_id_numbers": people.invalid_id_numbers,
        "lowercase_x_id_numbers": people.lowercase_x,
        "organisations": organisations.rows,
        "organisations_with_coordinates": organisations.with_coordinates,
        "invalid_credit_codes": organisations.invalid_credit_codes,
        "devices": int(devices.device_id.shape[0]),
        "incidents": incidents.incidents,
        "incident_rows_hotline": incidents.rows["hotline"],
        "incident_rows_grid_app": incidents.rows["gridapp"],
        "incident_rows_video_ai": incidents.rows["video"],
        "incident_bad_rows": incidents.bad_rows,
        "incident_duplicate_rows": incidents.duplicates,
        "incident_address_only_rows": incidents.address_only,
    }
    realised = {name: people.variant_counts[name] / max(people.rows, 1) for name in LABEL_NAMES}
    pipeline_file = write_pipeline(out, out / "pipeline.yaml")
    if pipeline_path is not None:
        write_pipeline(out, Path(pipeline_path))
    relative = sorted({path.relative_to(out).as_posix() for path in [*files, pipeline_file]})
    report = DemoReport(
        out=out,
        seed=seed,
        scale=scale,
        preset=active().name,
        planted_hotspots=planted_hotspots,
        targets=targets.to_dict(),
        counts=counts,
        variant_shares=realised,
        variant_settings=shares.to_dict(),
        resolvable_levels={level: people.level_counts.get(level, 0) for level in RESOLVABLE_LEVELS},
        hotspots=hotspot_truth,
        files=relative,
    )
    manifest = report.to_dict()
    manifest.pop("out")
    manifest["reject_reasons"] = list(REJECT_REASONS)
    manifest["variant_names"] = list(LABEL_NAMES)
    manifest["city"] = {
        "code": active().city_code,
        "name": active().city_name,
        "edition": EDITION_YEAR,
        "preset": active().name,
        "metric_crs": active().metric_crs,
    }
    write_json(truth_dir / "manifest.json", manifest)
    report.files = sorted(
        [*relative, *(p.relative_to(out).as_posix() for p in sorted(truth_dir.iterdir()))]
    )
    report.seconds = time.perf_counter() - started
    step("truth", 1, 1)
    return report
